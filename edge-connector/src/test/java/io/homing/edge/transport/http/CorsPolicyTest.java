package io.homing.edge.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;

class CorsPolicyTest {
  @Test
  void aListedOriginIsEchoedAndOthersGetNothing() {
    CorsPolicy cors = CorsPolicy.of(List.of("https://a.example", "http://b.example:8080"));
    HttpHeaders answer = answer(cors, "http://b.example:8080", false);
    assertThat(answer.get("Access-Control-Allow-Origin")).isEqualTo("http://b.example:8080");
    assertThat(answer.get("Vary")).isEqualTo("Origin");
    assertThat(answer(cors, "https://c.example", false).isEmpty()).isTrue();
    assertThat(answer(CorsPolicy.of(List.of()), "https://a.example", true).isEmpty()).isTrue();
  }

  @Test
  void aPreflightNamesMethodsAndRequestHeaders() {
    HttpHeaders answer = answer(CorsPolicy.of(List.of("*")), "https://any.example", true);
    assertThat(answer.get("Access-Control-Allow-Origin")).isEqualTo("*");
    assertThat(answer.get("Access-Control-Allow-Methods")).isEqualTo("GET, POST, OPTIONS");
    assertThat(answer.get("Access-Control-Allow-Headers"))
        .isEqualTo("Authorization, Content-Type, Last-Event-ID");
    assertThat(answer.get("Access-Control-Max-Age")).isEqualTo("600");
  }

  private static HttpHeaders answer(CorsPolicy cors, String origin, boolean preflight) {
    HttpHeaders request = new DefaultHttpHeaders().set("Origin", origin);
    HttpHeaders answer = new DefaultHttpHeaders();
    if (preflight) {
      cors.addPreflightTo(request, answer);
    } else {
      cors.addTo(request, answer);
    }
    return answer;
  }
}
