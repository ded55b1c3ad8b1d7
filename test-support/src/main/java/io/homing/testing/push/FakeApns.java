package io.homing.testing.push;

import com.eatthepath.pushy.apns.server.MockApnsServer;
import com.eatthepath.pushy.apns.server.MockApnsServerBuilder;
import com.eatthepath.pushy.apns.server.PushNotificationHandler;
import com.eatthepath.pushy.apns.server.RejectedNotificationException;
import com.eatthepath.pushy.apns.server.RejectionReason;
import com.eatthepath.pushy.apns.server.UnregisteredDeviceTokenException;
import io.grpc.util.CertificateUtils;
import io.homing.testing.DevCertificates;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A fake APNs: Pushy's {@link MockApnsServer} over TLS with a {@link DevCertificates} server
 * certificate (for 127.0.0.1), on a free port. It checks what APNs checks first — a provider
 * token (ES256 JWT) signed by {@link #signingKey()}, or a client certificate signed by the CA;
 * an apns-topic; a hex device token; at most 4 KB of payload — then answers as scripted per
 * device token ({@link #reject}, {@link #unregister}), else accepts. Every notification that
 * passed authentication is recorded, accepted or not.
 *
 * <p>Thread-safe. {@link #close()} stops the server.
 */
public final class FakeApns implements AutoCloseable {
  /** The team id of {@link #signingKey()}. */
  public static final String TEAM_ID = "HOMINGTEAM";

  /** The key id of {@link #signingKey()}. */
  public static final String KEY_ID = "HOMINGKEY1";

  private static final String PATH_PREFIX = "/3/device/";
  private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]+");
  private static final int MAX_PAYLOAD = 4096;

  /**
   * A signing key for token authentication, as Apple hands it out.
   *
   * @param p8 the key file (PKCS#8 PEM, EC P-256)
   * @param teamId the developer team it belongs to
   * @param keyId its id
   */
  public record SigningKey(Path p8, String teamId, String keyId) {}

  /**
   * One notification as the server received it; header values as sent, null when absent.
   *
   * @param clientCertificate the subject of the client certificate it came with, or null (token
   *     authentication)
   * @param rejection what the server answered, or null when it accepted it
   */
  public record Notification(
      String token,
      String topic,
      String payload,
      String collapseId,
      String pushType,
      String priority,
      String expiration,
      String apnsId,
      String clientCertificate,
      RejectionReason rejection) {}

  private record Script(RejectionReason reason, Instant unregisteredSince, AtomicInteger left) {}

  private final DevCertificates certificates;
  private final SigningKey signingKey;
  private final PublicKey verificationKey;
  private final EventLoopGroup group;
  private final MockApnsServer server;
  private final int port;
  private final Map<String, Script> scripts = new ConcurrentHashMap<>();
  private final List<Notification> received = new CopyOnWriteArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  private FakeApns(DevCertificates certificates, KeyPair key) throws Exception {
    this.certificates = certificates;
    Path p8 = certificates.caCertificate().resolveSibling("apns-signing-key.p8");
    Files.writeString(p8, Pem.of("PRIVATE KEY", key.getPrivate().getEncoded()));
    this.signingKey = new SigningKey(p8, TEAM_ID, KEY_ID);
    this.verificationKey = key.getPublic();
    this.group = group();
    try {
      this.server = new MockApnsServerBuilder()
          .setEventLoopGroup(group)
          .setServerCredentials(
              certificates.serverCertificate().toFile(), certificates.serverKey().toFile(), null)
          .setTrustedClientCertificateChain(certificates.caCertificate().toFile())
          .setHandlerFactory(session -> handler(clientCertificate(session)))
          .build();
      this.port = server.start(0).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** Makes certificates and a signing key, and starts the server on a free port. */
  public static FakeApns start() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return new FakeApns(DevCertificates.create(), generator.generateKeyPair());
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the fake APNs: " + e, e);
    }
  }

  /**
   * The host to connect to; the certificate names it. (The server listens on every interface:
   * Pushy's mock takes a port alone.)
   */
  public String host() {
    return "127.0.0.1";
  }

  public int port() {
    return port;
  }

  /** The CA (PEM) that signed the server's certificate: what the client trusts. */
  public Path caCertificate() {
    return certificates.caCertificate();
  }

  /** The signing key whose provider tokens the server accepts. */
  public SigningKey signingKey() {
    return signingKey;
  }

  /**
   * Makes a client certificate signed by the CA, with CN {@code name}, and its key in a PKCS#12
   * file protected by {@code password}: what certificate authentication needs.
   */
  public Path clientCertificate(String name, String password) {
    DevCertificates.Identity identity = certificates.clientCertificate(name);
    try (InputStream chain = Files.newInputStream(identity.certificate());
        InputStream key = Files.newInputStream(identity.privateKey())) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      Certificate[] certificateChain = CertificateUtils.getX509Certificates(chain);
      store.setKeyEntry("client", CertificateUtils.getPrivateKey(key), password.toCharArray(),
          certificateChain);
      Path p12 = identity.certificate().resolveSibling(name.replaceAll("[^A-Za-z0-9-]", "_")
          + ".p12");
      try (OutputStream out = Files.newOutputStream(p12)) {
        store.store(out, password.toCharArray());
      }
      return p12;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a client certificate: " + e, e);
    }
  }

  /** Rejects every notification to {@code token} with {@code reason}. */
  public void reject(String token, RejectionReason reason) {
    reject(token, reason, Integer.MAX_VALUE);
  }

  /** Rejects the next {@code times} notifications to {@code token}, then accepts again. */
  public void reject(String token, RejectionReason reason, int times) {
    scripts.put(token, new Script(reason, null, new AtomicInteger(times)));
  }

  /** Answers 410 Unregistered, with {@code since} as the invalidation timestamp, from now on. */
  public void unregister(String token, Instant since) {
    scripts.put(token,
        new Script(RejectionReason.UNREGISTERED, since, new AtomicInteger(Integer.MAX_VALUE)));
  }

  /** Every notification received so far, in order, accepted or not. */
  public List<Notification> received() {
    return List.copyOf(received);
  }

  /** The notifications accepted so far, in order. */
  public List<Notification> accepted() {
    return received.stream().filter(notification -> notification.rejection() == null).toList();
  }

  /** Stops the server (waiting at most 10 s); clients see their connections close. Idempotent. */
  @Override
  public void close() {
    if (closed.getAndSet(true)) {
      return;
    }
    try {
      server.shutdown().get(10, TimeUnit.SECONDS);
      group.shutdownGracefully(0, 5, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the fake APNs did not stop: " + e, e);
    }
  }

  /**
   * The server's own event loop group, so that it stops at once: a group Pushy makes waits out
   * Netty's 2-second quiet period. Pushy knows only the Nio, Epoll and KQueue groups, not Netty
   * 4.2's MultiThreadIoEventLoopGroup, hence the deprecated class.
   */
  @SuppressWarnings("deprecation")
  private static EventLoopGroup group() {
    return new NioEventLoopGroup(1);
  }

  private PushNotificationHandler handler(String clientCertificate) {
    return (headers, payload) -> {
      String token = text(headers.path());
      token = token != null && token.startsWith(PATH_PREFIX)
          ? token.substring(PATH_PREFIX.length()) : "";
      if (clientCertificate == null) {
        authenticate(headers);
      }
      RejectionReason rejection = check(headers, token, payload);
      Script script = rejection == null ? scripted(token) : null;
      if (script != null) {
        rejection = script.reason();
      }
      received.add(new Notification(
          token,
          text(headers.get("apns-topic")),
          payload.toString(StandardCharsets.UTF_8),
          text(headers.get("apns-collapse-id")),
          text(headers.get("apns-push-type")),
          text(headers.get("apns-priority")),
          text(headers.get("apns-expiration")),
          text(headers.get("apns-id")),
          clientCertificate,
          rejection));
      if (script != null && script.unregisteredSince() != null) {
        throw new UnregisteredDeviceTokenException(script.unregisteredSince());
      }
      if (rejection != null) {
        throw new RejectedNotificationException(rejection);
      }
    };
  }

  /** Checks the provider token: ES256, our key id, our team, signed by our key. */
  private void authenticate(Http2Headers headers) throws RejectedNotificationException {
    String authorization = text(headers.get("authorization"));
    if (authorization == null || !authorization.regionMatches(true, 0, "bearer ", 0, 7)) {
      throw new RejectedNotificationException(RejectionReason.MISSING_PROVIDER_TOKEN);
    }
    try {
      // JWS wants the raw R||S form; Pushy sends DER, which Apple accepts too.
      String issuer = Jwts.verify(authorization.substring(7).trim(), "ES256", KEY_ID,
          verificationKey, "SHA256withECDSAinP1363Format", "SHA256withECDSA")
          .path("iss").asText();
      if (!issuer.equals(TEAM_ID)) {
        throw new IllegalArgumentException("iss " + issuer);
      }
    } catch (IllegalArgumentException e) {
      throw new RejectedNotificationException(RejectionReason.INVALID_PROVIDER_TOKEN);
    }
  }

  private static RejectionReason check(Http2Headers headers, String token, ByteBuf payload) {
    if (text(headers.get("apns-topic")) == null) {
      return RejectionReason.MISSING_TOPIC;
    }
    if (!HEX.matcher(token).matches()) {
      return RejectionReason.BAD_DEVICE_TOKEN;
    }
    if (payload.readableBytes() > MAX_PAYLOAD) {
      return RejectionReason.PAYLOAD_TOO_LARGE;
    }
    return null;
  }

  /** The script for {@code token} when it still applies, counting this use. */
  private Script scripted(String token) {
    Script script = scripts.get(token);
    return script != null && script.left().getAndDecrement() > 0 ? script : null;
  }

  private static String clientCertificate(SSLSession session) {
    try {
      return ((X509Certificate) session.getPeerCertificates()[0])
          .getSubjectX500Principal().getName();
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  private static String text(CharSequence value) {
    return value == null ? null : value.toString();
  }
}
