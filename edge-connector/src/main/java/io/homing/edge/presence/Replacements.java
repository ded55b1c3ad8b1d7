package io.homing.edge.presence;

import io.homing.api.v1.Error;
import io.homing.edge.session.ConnectionRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes this node's connections that a newer connection of the same device on another node
 * replaced, and counts replacements in {@value #METER}, tag {@code where}: {@code local} (the newer
 * connection is on this node, whose {@code Session} closes the old one) or {@code remote} (on
 * another node, which said so in a {@link ReplaceNotice}).
 */
public final class Replacements {
  /** The counter's name; its {@code where} tag is {@code local} or {@code remote}. */
  public static final String METER = "homing.edge.replaced";
  static final String REASON = "the same device connected on another edge";

  private static final Logger log = LoggerFactory.getLogger(Replacements.class);

  private final ConnectionRegistry registry;
  private final Counter remote;

  /** Registers both counters, so each is scraped (at 0) before any replacement. */
  public Replacements(ConnectionRegistry registry, MeterRegistry meters) {
    this.registry = registry;
    counter(meters, "local");
    this.remote = counter(meters, "remote");
  }

  /**
   * Closes the connection the notice names with {@code Error{REPLACED}}, if it is still the
   * device's connection here: a newer connection of the device on this node stays. Never blocks.
   */
  public void replacedRemotely(ReplaceNotice notice) {
    if (registry.closeIfCurrent(notice.userId(), notice.deviceId(), notice.connectionId(),
        Error.Code.REPLACED, REASON)) {
      remote.increment();
      log.debug("closed {}: replaced on another node", notice);
    }
  }

  private static Counter counter(MeterRegistry meters, String where) {
    return Counter.builder(METER).tag("where", where)
        .description("Connections closed because the same device connected again, by where")
        .register(meters);
  }
}
