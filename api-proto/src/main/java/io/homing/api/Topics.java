package io.homing.api;

import java.util.Objects;

/**
 * The Kafka topics of a Homing deployment: {@code outbound}, {@code delivery-events},
 * {@code inbound}, {@code delivery-receipts} and {@code notifications}, behind an
 * optional prefix (e.g. {@code "staging."}) so several deployments — or tests — can share a
 * cluster. The two topics are co-partitioned: same partition count, records keyed by user id with
 * the default partitioner.
 *
 * @param prefix prepended to every topic name; empty by default
 */
public record Topics(String prefix) {
  /** The topics without a prefix. */
  public static final Topics DEFAULT = new Topics("");

  public Topics {
    Objects.requireNonNull(prefix, "prefix");
  }

  /** Messages to deliver; key = recipient user id, value = {@code homing.v1.OutboundMessage}. */
  public String outbound() {
    return prefix + "outbound";
  }

  /** What edges observe; key = user id, value = {@code homing.v1.DeliveryEvent}. */
  public String deliveryEvents() {
    return prefix + "delivery-events";
  }

  /**
   * What clients publish (the uplink); key = sender's user id, value = {@code
   * homing.v1.InboundMessage}. Written by edges, read by the application.
   */
  public String inbound() {
    return prefix + "inbound";
  }

  /**
   * Where each message that asked for receipts stands for its recipient, written by
   * delivery-core in its changelog transactions; key = message id (or sender, by core's
   * configuration), value = {@code homing.v1.DeliveryReceipt}. For producers; read it
   * read-committed.
   */
  public String deliveryReceipts() {
    return prefix + "delivery-receipts";
  }

  /**
   * Notifications delivery-core asks for, for users none of whose devices is connected, written
   * in its changelog transactions; key = user id, value = {@code homing.v1.NotificationRequest}.
   * Read by the notifier, read-committed.
   */
  public String notifications() {
    return prefix + "notifications";
  }

  /**
   * delivery-core's own: the changes of each partition's offline store, compacted, co-partitioned
   * with the others, written in transactions. Not for producers or consumers outside core.
   */
  public String storeChangelog() {
    return prefix + "store-changelog";
  }
}
