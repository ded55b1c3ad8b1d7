package io.homing.core.pipeline;

import io.homing.api.v1.Message;
import io.homing.api.v1.Notification;
import io.homing.api.v1.NotificationRequest;
import io.homing.core.ReceiptPolicy;
import io.homing.store.PartitionState;
import io.homing.store.StoredMessage;
import io.homing.store.v1.PushRegistration;
import io.homing.store.v1.UserState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What to ask the notifier for a user none of whose devices is connected: one request per device
 * with a push target and messages waiting for it (not acked by it), covering all of them — the
 * count, what the newest shows, and which of them asked for receipts. Reads the partition's state
 * only; pipeline thread.
 */
final class NotificationPlanner {
  /** How many of a device's newest waiting messages a request looks at, and names for receipts. */
  static final int NEWEST = 100;

  private final ReceiptPolicy receipts;

  NotificationPlanner(ReceiptPolicy receipts) {
    this.receipts = receipts;
  }

  /**
   * The requests for the user's devices, stamped {@code nowMs}. A device gets none when nothing
   * waits for it, or when every one of its newest waiting messages asks for no notification.
   */
  List<NotificationRequest> plan(PartitionState state, String userId, long nowMs) {
    UserState user = state.user(userId);
    if (user.getPushTargets() == 0) {
      return List.of();
    }
    List<NotificationRequest> requests = new ArrayList<>();
    Map<Long, List<StoredMessage>> newestAfter = new HashMap<>(); // devices share cursors
    for (Map.Entry<String, PushRegistration> target : state.pushTargets(userId).entrySet()) {
      String device = target.getKey();
      long cursor = Math.max(user.getDeviceAckedOrDefault(device, 0L), user.getPurgedThrough());
      long waiting = Math.min(user.getLastSeq() - cursor, user.getQueuedCount());
      if (waiting <= 0) {
        continue;
      }
      List<StoredMessage> newest = newestAfter.computeIfAbsent(cursor, c -> state.readAfter(
          userId, Math.max(c, user.getLastSeq() - NEWEST), NEWEST));
      NotificationRequest.Builder request = NotificationRequest.newBuilder();
      StoredMessage shown = null;
      for (StoredMessage m : newest) {
        Message message = m.message();
        if (message.getNotification().getMode() == Notification.Mode.NONE) {
          continue;
        }
        shown = m;
        if (message.getReceipts() && !message.getMessageId().isEmpty()) {
          request.addReceipts(NotificationRequest.Receipted.newBuilder()
              .setMessageId(message.getMessageId())
              .setSeq(m.seq())
              .setSender(message.getSender())
              .setKey(receipts.keyOf(message.getMessageId(), message.getSender())));
        }
      }
      if (shown == null) {
        continue;
      }
      if (shown.message().hasNotification()) {
        request.setNotification(shown.message().getNotification());
      }
      requests.add(request
          .setUserId(userId)
          .setDeviceId(device)
          .setTarget(target.getValue().getTarget())
          .setTargetSetAtMs(target.getValue().getSetAtMs())
          .setWaiting(waiting)
          .setMessageId(shown.message().getMessageId())
          .setSeq(shown.seq())
          .setCreatedAtMs(nowMs)
          .build());
    }
    return requests;
  }
}
