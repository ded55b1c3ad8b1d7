package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.homing.api.ApiKey;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.SendServiceGrpc;
import io.homing.cli.HomingCli;
import io.homing.client.SendApiChannel;
import io.homing.client.SendApiKey;
import io.homing.core.send.SendCredentials;
import io.homing.core.send.SenderTokens;
import io.homing.runtime.auth.TokenSettings;
import io.homing.runtime.tls.ServerTls;
import io.homing.testing.DevCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * A Send API that serves TLS and takes every kind of credential: API keys, sender tokens (HS256,
 * and ES256 from a JWK set) and client certificates. Every refusal delivers nothing.
 */
class SendApiCredentialsIT {
  private static final String SECRET = "send-api-test-secret-0123456789abcdef";
  private static final String OPS_KEY = ApiKey.generate();
  private static final DevCertificates CERTIFICATES = DevCertificates.create();
  private static final DevCertificates FOREIGN = DevCertificates.create();
  private static final ECKey SIGNING = ecKey();
  private static final HttpServer JWKS = jwksServer();

  @RegisterExtension
  static final TestCluster cluster = TestCluster.perClass(1, TestCluster.Options.defaults().with(
      new SendCredentials(keyFile(),
          Optional.of(new TokenSettings(Optional.of(SECRET),
              Optional.of(URI.create("http://127.0.0.1:" + JWKS.getAddress().getPort() + "/jwks")),
              TokenSettings.DEFAULT_JWKS_REFRESH, Optional.empty(),
              Optional.of(SenderTokens.DEFAULT_AUDIENCE))),
          Optional.of(new ServerTls(CERTIFICATES.serverCertificate(), CERTIFICATES.serverKey(),
              Optional.of(CERTIFICATES.caCertificate()))))));

  @AfterAll
  static void stopJwks() {
    JWKS.stop(0);
  }

  @Test
  void senderTokensSendToTheUsersTheirScopeNames() throws Exception {
    Inbox crm = new Inbox();
    cluster.connected(0, "crm-1", "phone", crm);
    ManagedChannel channel = tls(Optional.empty());
    try {
      String hs256 = hs256(claims("crm-bot", "openid send:crm-* send:alice"));
      stub(channel, hs256).send(text("by HS256 token", "crm-1"));
      assertThat(crm.take(1)).extracting(Inbox.Received::text).containsExactly("by HS256 token");

      String es256 = es256(claims("crm-bot", List.of("send:crm-*")));
      stub(channel, es256).send(text("by ES256 token", "crm-1"));
      assertThat(crm.take(1)).extracting(Inbox.Received::text).containsExactly("by ES256 token");

      assertRefused(() -> stub(channel, hs256).send(text("beyond its scope", "crm-1", "bob")),
          Status.Code.PERMISSION_DENIED,
          "sender crm-bot may not send to 'bob' (allowed: crm-*,alice): nothing was sent");
      assertRefused(() -> stub(channel, hs256(claims("crm-bot", "openid profile")))
              .send(text("no send scope", "crm-1")),
          Status.Code.PERMISSION_DENIED, "sender crm-bot may not send to 'crm-1' (allowed: )");
      JWTClaimsSet expired = new JWTClaimsSet.Builder(claims("crm-bot", "send:*"))
          .expirationTime(Date.from(Instant.now().minusSeconds(60))).build();
      assertRefused(() -> stub(channel, hs256(expired)).send(text("expired", "crm-1")),
          Status.Code.UNAUTHENTICATED, "sender token expired at");
      JWTClaimsSet otherAudience = new JWTClaimsSet.Builder(claims("crm-bot", "send:*"))
          .audience("homing-client").build();
      assertRefused(() -> stub(channel, hs256(otherAudience)).send(text("aud", "crm-1")),
          Status.Code.UNAUTHENTICATED, "sender token refused: JWT aud claim rejected");
      String forged = hs256.substring(0, hs256.lastIndexOf('.') + 1)
          + "AAAA" + hs256.substring(hs256.lastIndexOf('.') + 5);
      assertRefused(() -> stub(channel, forged).send(text("forged", "crm-1")),
          Status.Code.UNAUTHENTICATED, "sender token refused: Signed JWT rejected");
      ECKey stranger = new ECKeyGenerator(Curve.P_256).keyID(SIGNING.getKeyID()).generate();
      assertRefused(() -> stub(channel, sign(stranger, claims("crm-bot", "send:*")))
              .send(text("unknown key", "crm-1")),
          Status.Code.UNAUTHENTICATED, "sender token refused");

      stub(channel, OPS_KEY).send(text("by API key, over TLS", "crm-1"));
      assertThat(crm.take(1)).extracting(Inbox.Received::text)
          .containsExactly("by API key, over TLS"); // nothing refused above arrived
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aClientCertificateAuthenticatesTheSenderItsCertLineNames() throws Exception {
    Inbox crm = new Inbox();
    cluster.connected(0, "crm-2", "phone", crm);
    ManagedChannel crmChannel = tls(Optional.of(CERTIFICATES.clientCertificate("crm")));
    ManagedChannel strangerChannel = tls(Optional.of(CERTIFICATES.clientCertificate("stranger")));
    ManagedChannel anonymous = tls(Optional.empty());
    try {
      SendServiceGrpc.newBlockingStub(crmChannel).withDeadlineAfter(20, TimeUnit.SECONDS)
          .send(text("by certificate", "crm-2"));
      assertThat(crm.take(1)).extracting(Inbox.Received::text).containsExactly("by certificate");

      assertRefused(() -> SendServiceGrpc.newBlockingStub(crmChannel)
              .withDeadlineAfter(20, TimeUnit.SECONDS).send(text("not its user", "ops-1")),
          Status.Code.PERMISSION_DENIED, "sender crm may not send to 'ops-1' (allowed: crm-*)");
      assertRefused(() -> SendServiceGrpc.newBlockingStub(strangerChannel)
              .withDeadlineAfter(20, TimeUnit.SECONDS).send(text("stranger", "crm-2")),
          Status.Code.PERMISSION_DENIED,
          "the client certificate [stranger] names no sender of the key file");
      assertRefused(() -> SendServiceGrpc.newBlockingStub(anonymous)
              .withDeadlineAfter(20, TimeUnit.SECONDS).send(text("anonymous", "crm-2")),
          Status.Code.UNAUTHENTICATED, "no credentials (expected: the metadata 'authorization: "
              + "Bearer <api key>', or the metadata 'authorization: Bearer <sender JWT>', or a "
              + "client certificate that a cert line of the key file names)");
      assertOnlyNext(crm, "crm-2");
    } finally {
      for (ManagedChannel channel : List.of(crmChannel, strangerChannel, anonymous)) {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aCertificateOfAnotherCaOrPlaintextNeverGetsIn() throws Exception {
    Inbox crm = new Inbox();
    cluster.connected(0, "crm-3", "phone", crm);
    ManagedChannel foreign = SendApiChannel.open("127.0.0.1:" + cluster.sendPort(),
        Optional.of(new SendApiChannel.Tls(Optional.of(CERTIFICATES.caCertificate()),
            Optional.of(FOREIGN.clientCertificate("crm").certificate()),
            Optional.of(FOREIGN.clientCertificate("crm").privateKey()))));
    try {
      assertRefused(() -> SendServiceGrpc.newBlockingStub(foreign)
              .withDeadlineAfter(20, TimeUnit.SECONDS).send(text("foreign CA", "crm-3")),
          Status.Code.UNAVAILABLE, "");
      assertRefused(() -> cluster.send().withInterceptors(SendApiKey.interceptor(OPS_KEY))
              .send(text("plaintext", "crm-3")),
          Status.Code.UNAVAILABLE, "");
      assertOnlyNext(crm, "crm-3");
    } finally {
      foreign.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void theCliSendsWithAClientCertificateOrAToken() throws Exception {
    Inbox crm = new Inbox();
    cluster.connected(0, "crm-4", "phone", crm);
    DevCertificates.Identity certificate = CERTIFICATES.clientCertificate("crm");
    String server = "127.0.0.1:" + cluster.sendPort();

    assertThat(cli("send", "--server", server, "--to", "crm-4", "--text", "cli by certificate",
        "--tls-ca", CERTIFICATES.caCertificate().toString(),
        "--tls-cert", certificate.certificate().toString(),
        "--tls-key", certificate.privateKey().toString())).isZero();
    assertThat(crm.take(1)).extracting(Inbox.Received::text).containsExactly("cli by certificate");

    assertThat(cli("send", "--server", server, "--to", "crm-4", "--text", "cli by token",
        "--tls-ca", CERTIFICATES.caCertificate().toString(),
        "--token", hs256(claims("crm-bot", "send:crm-4")))).isZero();
    assertThat(crm.take(1)).extracting(Inbox.Received::text).containsExactly("cli by token");

    assertThat(cli("send", "--server", server, "--to", "crm-4", "--text", "cli, no credentials",
        "--tls-ca", CERTIFICATES.caCertificate().toString(), "--token", "hk_unknown"))
        .isEqualTo(1);
    assertOnlyNext(crm, "crm-4");
  }

  /** Sends one more message: that it comes next shows that nothing refused before arrived. */
  private static void assertOnlyNext(Inbox inbox, String user) throws InterruptedException {
    ManagedChannel channel = tls(Optional.empty());
    try {
      stub(channel, OPS_KEY).send(text("after the refusals", user));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    assertThat(inbox.take(1)).extracting(Inbox.Received::text)
        .containsExactly("after the refusals");
  }

  private static int cli(String... args) {
    return new CommandLine(HomingCli.class).execute(args);
  }

  private static ManagedChannel tls(Optional<DevCertificates.Identity> client) {
    return SendApiChannel.open("127.0.0.1:" + cluster.sendPort(),
        Optional.of(new SendApiChannel.Tls(Optional.of(CERTIFICATES.caCertificate()),
            client.map(DevCertificates.Identity::certificate),
            client.map(DevCertificates.Identity::privateKey))));
  }

  private static SendServiceGrpc.SendServiceBlockingStub stub(
      ManagedChannel channel, String credential) {
    return SendServiceGrpc.newBlockingStub(channel)
        .withInterceptors(SendApiKey.interceptor(credential))
        .withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static void assertRefused(ThrowingCallable call, Status.Code code, String description) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      if (!description.isEmpty()) {
        assertThat(e.getStatus().getDescription()).startsWith(description);
      }
    });
  }

  private static JWTClaimsSet claims(String sender, Object scope) {
    return new JWTClaimsSet.Builder()
        .subject(sender)
        .audience(SenderTokens.DEFAULT_AUDIENCE)
        .expirationTime(Date.from(Instant.now().plus(Duration.ofMinutes(5))))
        .claim(SenderTokens.SCOPE_CLAIM, scope)
        .build();
  }

  private static String hs256(JWTClaimsSet claims) throws JOSEException {
    SignedJWT jwt = new SignedJWT(
        new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
    return jwt.serialize();
  }

  private static String es256(JWTClaimsSet claims) throws JOSEException {
    return sign(SIGNING, claims);
  }

  private static String sign(ECKey key, JWTClaimsSet claims) throws JOSEException {
    SignedJWT jwt = new SignedJWT(
        new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }

  private static SendRequest text(String text, String... users) {
    return SendRequest.newBuilder()
        .addAllUserIds(List.of(users))
        .setPayload(ByteString.copyFromUtf8(text))
        .setContentType("text/plain")
        .build();
  }

  private static ECKey ecKey() {
    try {
      return new ECKeyGenerator(Curve.P_256).keyID("send-key-1").generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A JWK set URL that serves the public half of {@link #SIGNING}. */
  private static HttpServer jwksServer() {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      byte[] body = new JWKSet(SIGNING.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
      server.createContext("/jwks", exchange -> {
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
      });
      server.start();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path keyFile() {
    try {
      Path file = Files.createTempFile("send-credentials", "");
      file.toFile().deleteOnExit();
      Files.writeString(file, "ops " + ApiKey.hash(OPS_KEY) + " *\n"
          + "crm cert crm-*\n");
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
