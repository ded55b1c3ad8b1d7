package io.homing.runtime.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * How a process reaches Redis: a {@code redis://} or, for TLS, {@code rediss://} URL (or another
 * of Lettuce's: {@code redis[s]-sentinel://}, {@code redis-socket://}), an ACL user and password,
 * and the TLS files (docs/security.md). A {@code rediss://} URL checks the server's certificate
 * and host name against {@code tlsCa} (the JDK's trust store without it). Immutable; {@link
 * #toString} and every error hide the password.
 *
 * @param uri {@code redis[s]://[[user]:password@]host[:port][/database]}
 * @param user the ACL user, else the URL's or {@code default}
 * @param password the password, else the URL's, if any
 * @param tlsCa PEM CA certificates the server's certificate must chain to
 * @param tlsCertificate a PEM client certificate, for a Redis with {@code tls-auth-clients}
 * @param tlsKey the client certificate's PKCS#8 PEM key
 */
public record RedisConnection(
    String uri,
    Optional<String> user,
    Optional<String> password,
    Optional<Path> tlsCa,
    Optional<Path> tlsCertificate,
    Optional<Path> tlsKey) {
  /** The URL schemes Lettuce takes. */
  private static final List<String> SCHEMES =
      List.of("redis", "rediss", "redis-sentinel", "rediss-sentinel", "redis-socket");

  public RedisConnection {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(tlsCa, "tlsCa");
    Objects.requireNonNull(tlsCertificate, "tlsCertificate");
    Objects.requireNonNull(tlsKey, "tlsKey");
    RedisURI parsed = parse(uri);
    if (user.isPresent() && password.isEmpty()) {
      throw new IllegalArgumentException("a Redis user (" + user.get()
          + ") needs its password (expected: --redis-password or HOMING_REDIS_PASSWORD)");
    }
    if (tlsCertificate.isPresent() != tlsKey.isPresent()) {
      throw new IllegalArgumentException(
          "--redis-tls-cert and --redis-tls-key go together (expected: both or neither)");
    }
    if (!parsed.isSsl() && (tlsCa.isPresent() || tlsCertificate.isPresent())) {
      throw new IllegalArgumentException("Redis TLS files need a rediss:// URL (expected: "
          + "rediss://host:port, not " + parsed.getHost() + ":" + parsed.getPort()
          + " without TLS)");
    }
    for (Optional<Path> file : List.of(tlsCa, tlsCertificate, tlsKey)) {
      if (file.isPresent() && !Files.isReadable(file.get())) {
        throw new IllegalArgumentException("Redis TLS file " + file.get() + " is not readable");
      }
    }
  }

  /** The URL alone: its credentials and TLS, if any, without files of their own. */
  public static RedisConnection of(String uri) {
    return new RedisConnection(uri, Optional.empty(), Optional.empty(), Optional.empty(),
        Optional.empty(), Optional.empty());
  }

  /**
   * A new client for this connection; its caller shuts it down. The TLS files are read when a
   * connection is made.
   */
  public RedisClient newClient() {
    RedisURI redis = parse(uri);
    if (password.isPresent()) {
      if (user.isPresent()) {
        redis.setAuthentication(user.get(), password.get());
      } else {
        redis.setAuthentication(password.get());
      }
    }
    RedisClient client = RedisClient.create(redis);
    if (redis.isSsl()) {
      SslOptions.Builder ssl = SslOptions.builder().jdkSslProvider();
      tlsCa.ifPresent(ca -> ssl.trustManager(ca.toFile()));
      tlsCertificate.ifPresent(cert -> ssl.keyManager(cert.toFile(), tlsKey.get().toFile(), null));
      client.setOptions(ClientOptions.builder().sslOptions(ssl.build()).build());
    }
    return client;
  }

  /**
   * Opens a connection of {@code client} with {@code connect} ({@code RedisClient::connect} or
   * {@code ::connectPubSub}). When Redis or the network refuses it — unreachable, a TLS
   * handshake, a wrong password — the client is shut down, and the call fails with an
   * IllegalStateException that names this connection and the reason, never the password.
   */
  public <T> T connect(RedisClient client, Function<RedisClient, T> connect) {
    try {
      return connect.apply(client);
    } catch (RuntimeException e) {
      client.shutdownAsync();
      if (!(e instanceof RedisException)) {
        throw e;
      }
      Throwable reason = e;
      while (reason.getCause() != null && reason.getCause() != reason) {
        reason = reason.getCause();
      }
      throw new IllegalStateException("cannot connect to Redis " + this + ": " + reason, e);
    }
  }

  private static RedisURI parse(String uri) {
    if (uri == null || SCHEMES.stream().noneMatch(scheme -> uri.startsWith(scheme + "://"))) {
      throw new IllegalArgumentException("Redis URL '" + masked(uri)
          + "' (expected: redis://host:port or rediss://host:port)");
    }
    try {
      return RedisURI.create(uri);
    } catch (IllegalArgumentException e) {
      // Neither the cause nor its message: both may quote the URL, password and all.
      throw new IllegalArgumentException("Redis URL '" + masked(uri) + "' cannot be parsed "
          + "(expected: redis[s]://[[user]:password@]host[:port][/database], the password "
          + "URL-encoded)");
    }
  }

  /** The URL with the password of its user information, if any, replaced by {@code ***}. */
  static String masked(String uri) {
    if (uri == null) {
      return null;
    }
    int scheme = uri.indexOf("://");
    int at = uri.lastIndexOf('@');
    if (scheme < 0 || at < scheme) {
      return uri;
    }
    String userInfo = uri.substring(scheme + 3, at);
    int colon = userInfo.indexOf(':');
    String shown = colon < 0 ? "***" : userInfo.substring(0, colon) + ":***";
    return uri.substring(0, scheme + 3) + shown + uri.substring(at);
  }

  @Override
  public String toString() {
    return masked(uri) + user.map(u -> " as " + u).orElse("")
        + (password.isPresent() ? " with a password" : "");
  }
}
