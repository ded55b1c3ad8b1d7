package io.homing.edge.session;

import io.homing.api.v1.AuthError;
import io.homing.edge.auth.TokenVerifier;
import io.homing.edge.events.DeliveryEventPublisher;
import io.homing.edge.presence.Presence;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** What every connection's {@link Session} shares. Thread-safe. */
public final class SessionContext {
  private final String nodeId;
  private final Duration authTimeout;
  private final Duration heartbeat;
  private final Duration idleTimeout;
  private final TokenVerifier verifier;
  private final ConnectionRegistry registry;
  private final Presence presence;
  private final DeliveryEventPublisher events;
  private final Uplink uplink;
  private final MeterRegistry meters;
  private final EdgeLimits limits;
  private final Admission admission;
  private final PublishLimits publishLimits;
  private final DeliveryLatency deliveryLatency;
  private final List<String> webhookPrefixes;
  /** The time between two frames of a connection at its sustained rate. */
  private final long frameIntervalNanos;
  /** How far ahead of now a connection's frames may run: its burst. */
  private final long frameToleranceNanos;
  private final AtomicLong connectionIds = new AtomicLong();
  /** Connection ids start with it: unique to this run of the node. */
  private final String epoch = Long.toString(System.currentTimeMillis(), 36) + '-';

  public SessionContext(
      String nodeId,
      Duration authTimeout,
      Duration heartbeat,
      Duration idleTimeout,
      TokenVerifier verifier,
      ConnectionRegistry registry,
      Presence presence,
      DeliveryEventPublisher events,
      Uplink uplink,
      EdgeLimits limits,
      List<String> webhookPrefixes,
      MeterRegistry meters) {
    this.webhookPrefixes = List.copyOf(webhookPrefixes);
    this.nodeId = nodeId;
    this.authTimeout = authTimeout;
    this.heartbeat = heartbeat;
    this.idleTimeout = idleTimeout;
    this.verifier = verifier;
    this.registry = registry;
    this.presence = presence;
    this.events = events;
    this.uplink = uplink;
    this.meters = meters;
    this.limits = limits;
    this.admission = new Admission(limits, meters);
    this.publishLimits = new PublishLimits(limits);
    this.deliveryLatency = new DeliveryLatency(meters);
    this.frameIntervalNanos = 1_000_000_000L / limits.framesPerSecond();
    this.frameToleranceNanos = frameIntervalNanos * limits.frameBurst();
    for (String limit : new String[] {EdgeLimits.FRAMES, EdgeLimits.PUBLISHES,
        EdgeLimits.CONNECTIONS_PER_USER, EdgeLimits.UNAUTHENTICATED,
        EdgeLimits.UNAUTHENTICATED_PER_ADDRESS}) {
      rateLimitedCounter(limit); // every limit in /metrics from the start, at 0
    }
  }

  private Counter rateLimitedCounter(String limit) {
    return Counter.builder("homing.edge.rate.limited")
        .description("Client frames, publishes and connections refused for a limit of "
            + "EdgeLimits")
        .tag("limit", limit)
        .register(meters);
  }

  /** Counts a refusal for the limit, one of the names in {@link EdgeLimits}. */
  public void rateLimited(String limit) {
    rateLimitedCounter(limit).increment();
  }

  public EdgeLimits limits() {
    return limits;
  }

  /** The node's count of connections that have not authenticated yet. */
  public Admission admission() {
    return admission;
  }

  DeliveryLatency deliveryLatency() {
    return deliveryLatency;
  }

  PublishLimits publishLimits() {
    return publishLimits;
  }

  /** What a webhook push target's URL must start with; empty: no webhook targets. */
  List<String> webhookPrefixes() {
    return webhookPrefixes;
  }

  long frameIntervalNanos() {
    return frameIntervalNanos;
  }

  long frameToleranceNanos() {
    return frameToleranceNanos;
  }

  /** Counts a refused authentication by its code. */
  void authRefused(AuthError.Code code) {
    meters.counter("homing.edge.auth.refused", "code", code.name()).increment();
  }

  /** Counts a connection closed because the same device connected again, here or elsewhere. */
  public void replaced(String where) {
    meters.counter("homing.edge.replaced", "where", where).increment();
  }

  /** A new connection's number, above 0. */
  long nextConnection() {
    return connectionIds.incrementAndGet();
  }

  /**
   * The id of the connection with this number: unique on this node, also across its restarts —
   * the node's start time, then the number, {@code mx94edc8-26376}.
   */
  String connectionId(long connection) {
    return epoch + connection;
  }

  /** Whether {@code id} is {@link #connectionId(long) connectionId(connection)}; makes nothing. */
  boolean isConnectionId(long connection, String id) {
    if (id.length() <= epoch.length() || !id.startsWith(epoch)) {
      return false;
    }
    try {
      return Long.parseLong(id, epoch.length(), id.length(), 10) == connection;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  String nodeId() {
    return nodeId;
  }

  Duration authTimeout() {
    return authTimeout;
  }

  public Duration heartbeat() {
    return heartbeat;
  }

  public Duration idleTimeout() {
    return idleTimeout;
  }

  public TokenVerifier verifier() {
    return verifier;
  }

  public ConnectionRegistry registry() {
    return registry;
  }

  Presence presence() {
    return presence;
  }

  DeliveryEventPublisher events() {
    return events;
  }

  Uplink uplink() {
    return uplink;
  }

  /** How long after its {@code exp} a token still holds, as the verifier allows. */
  long tokenLeewayMillis() {
    return TokenVerifier.LEEWAY.toMillis();
  }
}
