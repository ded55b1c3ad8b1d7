package io.homing.notifier.push;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Locale;

/**
 * What an FCM v1 answer means for the notification. An error body is {@code {"error":{"code",
 * "message","status","details":[{"@type":"…FcmError","errorCode":"UNREGISTERED"}, {"@type":
 * "…BadRequest","fieldViolations":[{"field":"message.token"}]}]}}}.
 *
 * <ul>
 *   <li>200: SENT.
 *   <li>UNREGISTERED, or a 400 about the token: INVALID_TARGET.
 *   <li>429 and 5xx: RETRY after the Retry-After.
 *   <li>Any other 4xx, including other 400s (the payload's fault): FAILED.
 * </ul>
 *
 * <p>A 401 (the access token refused) is for the caller to handle before asking here.
 */
final class FcmResponse {
  static final int UNAUTHORIZED = 401;

  private FcmResponse() {}

  static PushResult result(HttpResponse<String> response, ObjectMapper json) {
    int status = response.statusCode();
    JsonNode body = parse(json, response.body());
    if (status == 200) {
      return PushResult.sent("fcm: " + body.path("name").asText("sent"));
    }
    JsonNode error = body.path("error");
    String errorCode = errorCode(error);
    String detail = "fcm: " + (errorCode.isEmpty()
        ? (status + " " + error.path("status").asText("")).trim() : errorCode);
    // Only what blames the token itself removes it: a 404 without UNREGISTERED (a wrong
    // --fcm-url or project) or SENDER_ID_MISMATCH (a service account of another project) would
    // remove every device's token for a mistake in the notifier's configuration.
    if (errorCode.equals("UNREGISTERED") || (status == 400 && aboutToken(error))) {
      return PushResult.invalidTarget(detail, System.currentTimeMillis());
    }
    if (status == 429 || status >= 500) {
      return PushResult.retry(detail, RetryAfter.of(response.headers(), Instant.now()));
    }
    return PushResult.failed(detail);
  }

  /** The FcmError detail's errorCode, or "". */
  private static String errorCode(JsonNode error) {
    for (JsonNode detail : error.path("details")) {
      if (detail.path("@type").asText("").endsWith("google.firebase.fcm.v1.FcmError")) {
        return detail.path("errorCode").asText("");
      }
    }
    return "";
  }

  /**
   * Whether a 400 blames the registration token: a field violation on {@code message.token}, or —
   * as FCM answers a malformed token, with no field violation — a message naming the
   * registration token.
   */
  private static boolean aboutToken(JsonNode error) {
    for (JsonNode detail : error.path("details")) {
      for (JsonNode violation : detail.path("fieldViolations")) {
        if (violation.path("field").asText("").equals("message.token")) {
          return true;
        }
      }
    }
    return error.path("message").asText("").toLowerCase(Locale.ROOT).contains("registration token");
  }

  private static JsonNode parse(ObjectMapper json, String body) {
    try {
      JsonNode node = json.readTree(body);
      return node != null ? node : MissingNode.getInstance();
    } catch (JsonProcessingException e) {
      return MissingNode.getInstance();
    }
  }
}
