package io.homing.runtime.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * How a process reaches Redis: a {@code redis://} or, for TLS, {@code rediss://} URL; a Redis
 * Cluster as {@code redis[s]-cluster://host:port[,host:port...]} (ours: seed nodes, from which
 * the client learns the rest); a master found through Sentinel as Lettuce's {@code
 * redis[s]-sentinel://host:port[,host:port...][/database]#master}; or {@code redis-socket://}.
 * Then an ACL user and password, and the TLS files (docs/security.md), the same for every form. A
 * TLS URL checks the server's certificate and host name against {@code tlsCa} (the JDK's trust
 * store without it). Immutable; {@link #toString} and every error hide the password.
 *
 * <p>A cluster client follows the topology: it refreshes it every {@link #TOPOLOGY_REFRESH} and
 * at once on MOVED, ASK, an unknown node and repeated reconnects (Lettuce's adaptive triggers),
 * so a replica promoted by a failover is used within seconds. A Sentinel client asks the sentinels for the master whenever
 * it connects, so it follows a failover on reconnecting.
 *
 * @param uri {@code redis[s]://[[user]:password@]host[:port][/database]}, or one of the above
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
  /** Our schemes for a Redis Cluster, with TLS or without. */
  private static final List<String> CLUSTER_SCHEMES = List.of("redis-cluster", "rediss-cluster");
  /** How often a cluster client reads the topology, besides when Redis says it moved. */
  public static final Duration TOPOLOGY_REFRESH = Duration.ofSeconds(5);

  public RedisConnection {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(tlsCa, "tlsCa");
    Objects.requireNonNull(tlsCertificate, "tlsCertificate");
    Objects.requireNonNull(tlsKey, "tlsKey");
    RedisURI parsed = seeds(uri).get(0);
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

  /** Whether the URL names a Redis Cluster. */
  public boolean cluster() {
    return CLUSTER_SCHEMES.stream().anyMatch(scheme -> uri.startsWith(scheme + "://"));
  }

  /**
   * Opens a client and its shared connection, to a cluster or not; the caller closes it. Fails
   * as {@link #connect} does.
   */
  public Redis open() {
    if (cluster()) {
      RedisClusterClient client = RedisClusterClient.create(authenticated());
      ClusterClientOptions.Builder options = ClusterClientOptions.builder()
          // Every adaptive trigger is on by default (Lettuce 7); the period is not.
          .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
              .enablePeriodicRefresh(TOPOLOGY_REFRESH)
              .build());
      ssl().ifPresent(options::sslOptions);
      client.setOptions(options.build());
      StatefulRedisClusterConnection<String, String> connection =
          connect(client, RedisClusterClient::connect);
      return new Redis(client, connection, connection.async(),
          () -> connect(client, RedisClusterClient::connectPubSub), true);
    }
    RedisClient client = newClient();
    StatefulRedisConnection<String, String> connection = connect(client, RedisClient::connect);
    return new Redis(client, connection, connection.async(),
        () -> connect(client, RedisClient::connectPubSub), false);
  }

  /**
   * A new client for a URL that is no cluster's; its caller shuts it down. The TLS files are read
   * when a connection is made. {@link #open()} takes every URL.
   */
  public RedisClient newClient() {
    if (cluster()) {
      throw new IllegalStateException("Redis " + this + " is a cluster (expected: open())");
    }
    RedisClient client = RedisClient.create(authenticated().get(0));
    ssl().ifPresent(ssl -> client.setOptions(ClientOptions.builder().sslOptions(ssl).build()));
    return client;
  }

  /** The URL's nodes, with the user and password of the options, if any. */
  private List<RedisURI> authenticated() {
    List<RedisURI> nodes = seeds(uri);
    if (password.isPresent()) {
      for (RedisURI node : nodes) {
        if (user.isPresent()) {
          node.setAuthentication(user.get(), password.get());
        } else {
          node.setAuthentication(password.get());
        }
      }
    }
    return nodes;
  }

  /** The TLS options of a TLS URL; empty for one without TLS. */
  private Optional<SslOptions> ssl() {
    if (!seeds(uri).get(0).isSsl()) {
      return Optional.empty();
    }
    SslOptions.Builder ssl = SslOptions.builder().jdkSslProvider();
    tlsCa.ifPresent(ca -> ssl.trustManager(ca.toFile()));
    tlsCertificate.ifPresent(cert -> ssl.keyManager(cert.toFile(), tlsKey.get().toFile(), null));
    return Optional.of(ssl.build());
  }

  /**
   * Opens a connection of {@code client} with {@code connect} (e.g. {@code RedisClient::connect}
   * or {@code ::connectPubSub}). When Redis or the network refuses it — unreachable, a TLS
   * handshake, a wrong password — the client is shut down, and the call fails with an
   * IllegalStateException that names this connection and the reason, never the password.
   */
  public <C extends AbstractRedisClient, T> T connect(C client, Function<C, T> connect) {
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

  /** The URL's one node, or a cluster URL's seed nodes, each as a Lettuce URL. */
  private static List<RedisURI> seeds(String uri) {
    if (uri == null || CLUSTER_SCHEMES.stream().noneMatch(s -> uri.startsWith(s + "://"))) {
      return List.of(parse(uri));
    }
    int scheme = uri.indexOf("://");
    String node = uri.startsWith("rediss") ? "rediss://" : "redis://";
    String rest = uri.substring(scheme + 3);
    int at = rest.lastIndexOf('@');
    String userInfo = rest.substring(0, at + 1);
    String hosts = rest.substring(at + 1);
    if (hosts.isEmpty() || hosts.matches(".*[/?#].*")) {
      throw new IllegalArgumentException("Redis URL '" + masked(uri) + "' (expected: "
          + uri.substring(0, scheme) + "://[[user]:password@]host:port[,host:port...], a "
          + "cluster has no database number)");
    }
    List<RedisURI> nodes = new ArrayList<>();
    for (String host : hosts.split(",", -1)) {
      nodes.add(parse(node + userInfo + host));
    }
    return nodes;
  }

  private static RedisURI parse(String uri) {
    if (uri == null || SCHEMES.stream().noneMatch(scheme -> uri.startsWith(scheme + "://"))) {
      throw new IllegalArgumentException("Redis URL '" + masked(uri) + "' (expected: "
          + "redis://host:port, rediss://host:port or redis[s]-cluster://host:port[,...])");
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
