package io.homing.core.send;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.homing.api.ApiKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Who calls the Send API: the sender whose API key the call's {@code authorization: Bearer <key>}
 * metadata carries ({@link ApiKeys}, as the {@link ApiKeyFile} holds them now), put in the call's
 * context for {@link SendService}. A call without a key, or with one no sender has, is closed
 * with {@code UNAUTHENTICATED} before its request is read. With no key file, every call is {@link
 * Sender#ANYONE}. Thread-safe.
 */
public final class SendAuthentication implements ServerInterceptor {
  static final Context.Key<Sender> SENDER = Context.key("homing-sender");

  private final ApiKeyFile keys;
  private final Counter missing;
  private final Counter unknown;

  /** @param keys the senders' keys, or null to let anyone call */
  public SendAuthentication(ApiKeyFile keys, MeterRegistry meters) {
    this.keys = keys;
    this.missing = refused(meters, "missing");
    this.unknown = refused(meters, "unknown");
  }

  private static Counter refused(MeterRegistry meters, String credentials) {
    return Counter.builder("homing.send.unauthenticated")
        .description("Send API calls refused with UNAUTHENTICATED, by what their credentials were")
        .tag("credentials", credentials)
        .register(meters);
  }

  /** The sender of the call being served. */
  static Sender sender() {
    Sender sender = SENDER.get();
    return sender != null ? sender : Sender.ANYONE;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    if (keys == null) {
      return next.startCall(call, headers);
    }
    String authorization = headers.get(ApiKey.AUTHORIZATION);
    int prefix = ApiKey.BEARER.length();
    String key = authorization != null
        && authorization.regionMatches(true, 0, ApiKey.BEARER, 0, prefix)
        ? authorization.substring(prefix).strip() : "";
    if (key.isEmpty()) {
      missing.increment();
      return refuse(call, "no API key: send the metadata 'authorization: Bearer <api key>'");
    }
    Sender sender = keys.keys().sender(key);
    if (sender == null) {
      unknown.increment();
      return refuse(call, "unknown API key");
    }
    return Contexts.interceptCall(Context.current().withValue(SENDER, sender), call, headers, next);
  }

  private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, String why) {
    call.close(Status.UNAUTHENTICATED.withDescription(why), new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
