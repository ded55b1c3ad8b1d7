package io.homing.core.admin;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.homing.api.ApiKey;
import io.homing.core.send.ApiKeyFile;
import io.homing.core.send.Sender;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Who calls the admin API: an operator whose {@code authorization: Bearer <key>} metadata is a
 * key of the admin key file (the Send API key file's format; a key's user patterns bound the
 * users its holder may act on). Without a key file no call gets in: the admin API can erase
 * users, so it never runs open. Thread-safe.
 */
public final class AdminAuthentication implements ServerInterceptor {
  static final Context.Key<Sender> OPERATOR = Context.key("homing-operator");

  private final ApiKeyFile keys;
  private final Counter missing;
  private final Counter unknown;

  /** @param keys the operators' keys; null: every call is refused */
  public AdminAuthentication(ApiKeyFile keys, MeterRegistry meters) {
    this.keys = keys;
    this.missing = refused(meters, "missing");
    this.unknown = refused(meters, "unknown");
  }

  private static Counter refused(MeterRegistry meters, String credentials) {
    return Counter.builder("homing.admin.unauthenticated")
        .description("Admin API calls refused with UNAUTHENTICATED, by what their credentials "
            + "were")
        .tag("credentials", credentials)
        .register(meters);
  }

  /** The operator of the call being served. */
  static Sender operator() {
    return OPERATOR.get();
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    if (keys == null) {
      missing.increment();
      return close(call, "the admin API takes no calls: this core has no --admin-api-keys file");
    }
    String key = ApiKey.bearerCredential(headers);
    if (key.isEmpty()) {
      missing.increment();
      return close(call, "no credentials (expected: the metadata 'authorization: Bearer "
          + "<admin api key>')");
    }
    Sender operator = keys.keys().sender(key);
    if (operator == null) {
      unknown.increment();
      return close(call, "unknown admin API key");
    }
    return Contexts.interceptCall(Context.current().withValue(OPERATOR, operator), call, headers,
        next);
  }

  private static <Q, A> ServerCall.Listener<Q> close(ServerCall<Q, A> call, String why) {
    call.close(Status.UNAUTHENTICATED.withDescription(why), new Metadata());
    return new ServerCall.Listener<>() { };
  }
}
