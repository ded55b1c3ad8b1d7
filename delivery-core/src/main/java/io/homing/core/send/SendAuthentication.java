package io.homing.core.send;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.homing.api.ApiKey;
import io.homing.runtime.auth.JwtRefusedException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who calls the Send API, put in the call's context for {@link SendService}. A call is
 * authenticated by, in this order:
 *
 * <ol>
 *   <li>its {@code authorization: Bearer <credential>} metadata: a sender token ({@link
 *       SenderTokens}) when the credential is a JWT, else an API key of the {@link ApiKeyFile};
 *   <li>else the client certificate its connection presented, verified in the TLS handshake:
 *       the sender a {@code cert} line of the key file names ({@link ApiKeys#certificateSender}).
 * </ol>
 *
 * <p>A call with a credential that proves nothing, or with none, is closed with {@code
 * UNAUTHENTICATED} before its request is read; one whose verified certificate names no sender,
 * with {@code PERMISSION_DENIED}. With neither a key file nor sender tokens configured, every
 * call is {@link Sender#ANYONE}. Thread-safe.
 */
public final class SendAuthentication implements ServerInterceptor {
  static final Context.Key<Sender> SENDER = Context.key("homing-sender");

  private static final int SAN_DNS = 2;
  private static final int SAN_URI = 6;

  private final ApiKeyFile keys;
  private final SenderTokens tokens;
  private final String expected;
  private final Counter missing;
  private final Counter unknown;
  private final Counter badToken;
  private final Counter unknownCertificate;

  /**
   * @param keys the senders' keys and certificates, or null
   * @param tokens the sender tokens' checker, or null; with {@code keys} null too, anyone may call
   * @param clientCertificates whether the Send API's TLS asks for client certificates
   */
  public SendAuthentication(ApiKeyFile keys, SenderTokens tokens, boolean clientCertificates,
      MeterRegistry meters) {
    this.keys = keys;
    this.tokens = tokens;
    List<String> accepted = new ArrayList<>();
    if (keys != null) {
      accepted.add("the metadata 'authorization: Bearer <api key>'");
    }
    if (tokens != null) {
      accepted.add("the metadata 'authorization: Bearer <sender JWT>'");
    }
    if (keys != null && clientCertificates) {
      accepted.add("a client certificate that a cert line of the key file names");
    }
    this.expected = String.join(", or ", accepted);
    this.missing = refused(meters, "missing");
    this.unknown = refused(meters, "unknown");
    this.badToken = refused(meters, "bad_token");
    this.unknownCertificate = Counter.builder("homing.send.permission.denied.certificate")
        .description("Send API calls refused with PERMISSION_DENIED because their verified client "
            + "certificate names no sender of the key file")
        .register(meters);
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
    if (keys == null && tokens == null) {
      return next.startCall(call, headers);
    }
    String credential = ApiKey.bearerCredential(headers);
    Sender sender;
    if (!credential.isEmpty()) {
      if (tokens != null && SenderTokens.isJwt(credential)) {
        try {
          sender = tokens.verify(credential);
        } catch (JwtRefusedException e) {
          badToken.increment();
          return close(call, Status.UNAUTHENTICATED, "sender " + e.getMessage());
        }
      } else {
        sender = keys == null ? null : keys.keys().sender(credential);
        if (sender == null) {
          unknown.increment();
          return close(call, Status.UNAUTHENTICATED, keys == null
              ? "not a sender JWT, and the Send API takes no API keys" : "unknown API key");
        }
      }
    } else {
      List<String> names =
          certificateNames(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
      if (names.isEmpty() || keys == null) {
        missing.increment();
        return close(call, Status.UNAUTHENTICATED, "no credentials (expected: " + expected + ")");
      }
      sender = keys.keys().certificateSender(names);
      if (sender == null) {
        unknownCertificate.increment();
        return close(call, Status.PERMISSION_DENIED, "the client certificate " + names
            + " names no sender of the key file (expected: a line '<name> cert <recipients>')");
      }
    }
    return Contexts.interceptCall(Context.current().withValue(SENDER, sender), call, headers, next);
  }

  /**
   * The names a verified client certificate carries: its subject's CN, then its DNS and URI
   * subject alternative names; none without a verified certificate.
   */
  static List<String> certificateNames(SSLSession session) {
    if (session == null) {
      return List.of();
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      return List.of();
    }
    List<String> names = new ArrayList<>();
    try {
      for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          names.add(rdn.getValue().toString());
        }
      }
    } catch (InvalidNameException e) {
      // No CN then; the alternative names may still name the sender.
    }
    try {
      Collection<List<?>> alternatives = leaf.getSubjectAlternativeNames();
      if (alternatives != null) {
        for (List<?> alternative : alternatives) {
          Object type = alternative.get(0);
          if ((type.equals(SAN_DNS) || type.equals(SAN_URI))
              && alternative.get(1) instanceof String name) {
            names.add(name);
          }
        }
      }
    } catch (CertificateParsingException e) {
      // The CN alone, then.
    }
    return names;
  }

  private static <Q, A> ServerCall.Listener<Q> close(
      ServerCall<Q, A> call, Status status, String why) {
    call.close(status.withDescription(why), new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
