package io.homing.edge.session;

import io.homing.api.v1.AuthError;
import io.homing.edge.auth.TokenVerifier;
import io.homing.edge.events.DeliveryEventPublisher;
import io.homing.edge.presence.Presence;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
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
      MeterRegistry meters) {
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
