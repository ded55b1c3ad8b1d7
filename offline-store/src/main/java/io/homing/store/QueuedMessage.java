package io.homing.store;

import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.Message;

/**
 * What the rules need to know of a queued message to remove it: its seq, its size as stored (for
 * the queue's byte count), when its TTL ends (0: never), its id (to record why it went) and, for
 * a message that asked for receipts, who to report its fate to.
 *
 * @param messageId the message's id; empty when it has none
 * @param receipts the message's id and sender, when it asked for receipts; else null
 */
public record QueuedMessage(long seq, int size, long expiresAt, String messageId,
    Receipts receipts) {
  /** A message without an id or receipts. */
  public QueuedMessage(long seq, int size, long expiresAt) {
    this(seq, size, expiresAt, "", null);
  }

  /** Where the receipts of a message go: its id, and its sender (empty if it named none). */
  public record Receipts(String messageId, String sender) {
    /**
     * A receipt of this message for the user's copy ({@code deviceId} empty) or one device; the
     * caller sets the time, and the node for DELIVERED.
     */
    public DeliveryReceipt.Builder receipt(String userId, String deviceId, long seq,
        DeliveryReceipt.State state) {
      return DeliveryReceipt.newBuilder()
          .setMessageId(messageId)
          .setUserId(userId)
          .setDeviceId(deviceId)
          .setSeq(seq)
          .setState(state)
          .setSender(sender);
    }
  }

  /** The receipts a message asked for, or null when it asked for none (or has no id to name). */
  public static Receipts receiptsOf(Message message) {
    return message.getReceipts() && !message.getMessageId().isEmpty()
        ? new Receipts(message.getMessageId(), message.getSender()) : null;
  }

  static QueuedMessage of(long seq, int size, Message message) {
    return new QueuedMessage(seq, size, OfflineStore.expiresAt(message), message.getMessageId(),
        receiptsOf(message));
  }
}
