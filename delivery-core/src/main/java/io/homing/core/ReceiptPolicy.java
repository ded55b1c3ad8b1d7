package io.homing.core;

import io.homing.api.v1.DeliveryReceipt;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Which messages get delivery receipts besides those that ask for them, and how receipts are keyed
 * in {@code delivery-receipts} (docs/receipts.md).
 *
 * @param key what a receipt's record key is
 * @param senders the Send API callers every message of which gets receipts, by name; {@code *}
 *     for every caller
 */
public record ReceiptPolicy(Key key, List<String> senders) {
  /** A receipt record's key. */
  public enum Key {
    /** The message id: every receipt of a message lands in one partition, in order. */
    MESSAGE_ID,
    /**
     * The message's sender (its message id when it names none): a sender reads its receipts from
     * one partition, in order.
     */
    SENDER
  }

  /** Receipts keyed by message id, for messages that ask for them. */
  public static ReceiptPolicy defaults() {
    return new ReceiptPolicy(Key.MESSAGE_ID, List.of());
  }

  public ReceiptPolicy {
    if (key == null) {
      throw new IllegalArgumentException("key: null (expected: MESSAGE_ID or SENDER)");
    }
    senders = List.copyOf(senders);
  }

  /** Whether every message of this Send API caller gets receipts. */
  public boolean coversSender(String name) {
    return senders.contains("*") || senders.contains(name);
  }

  /** The record key of the receipt, UTF-8. */
  public byte[] keyOf(DeliveryReceipt receipt) {
    return keyOf(receipt.getMessageId(), receipt.getSender()).getBytes(StandardCharsets.UTF_8);
  }

  /** The record key of a receipt of the message with this id and sender (empty: none). */
  public String keyOf(String messageId, String sender) {
    return key == Key.SENDER && !sender.isEmpty() ? sender : messageId;
  }
}
