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
  private final String epoch = Long.toString(System.currentTimeMillis(), 36);

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

  /** Unique on this node, also across its restarts: the start time, then a counter. */
  String nextConnectionId() {
    return epoch + '-' + connectionIds.incrementAndGet();
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
