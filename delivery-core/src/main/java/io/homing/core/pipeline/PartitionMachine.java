package io.homing.core.pipeline;

import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.Message;
import io.homing.core.DeviceLimits;
import io.homing.core.QueueLimits;
import io.homing.store.AcceptedId;
import io.homing.store.ExpiredMessage;
import io.homing.store.OfflineStore;
import io.homing.store.PartitionState;
import io.homing.store.QueuedMessage;
import io.homing.store.v1.PushRegistration;
import io.homing.store.v1.UserState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The rules of a partition's queues, as one state machine: a record (or a sweep) and the
 * partition's state in, the state's changes and what they mean for delivery ({@link Outcome})
 * out. It does no I/O and reads no clock: time comes in with the input, storage is the
 * {@link PartitionState} handed in, Kafka and the edges are the caller's.
 *
 * <p><b>Seqs depend on {@code outbound} alone.</b> A message's seq is decided by the state's
 * sequencing part — each user's {@code last_seq}, the message ids it remembers, the partition's
 * message clock — and the message records before it; nothing else changes that part:
 *
 * <ul>
 *   <li>every valid message that is not a duplicate takes the user's next seq, also one its full
 *       queue then refuses (the seq stays a hole, as a TTL removal leaves one);
 *   <li>a duplicate is an id remembered at or after {@code clock - dedup window}, where the clock
 *       is the newest message record time so far (it only moves forward, and only with message
 *       records); ids are remembered for every message that took a seq, refused or not;
 *   <li>the message that takes a user's seq 1 also sets the user's {@code stream_epoch}, the
 *       name of this stream of seqs, to the message clock (at least 1): like the seq, a function
 *       of the message records alone, so a replay names the stream the same;
 *   <li>acks, connects, disconnects, TTL expiry, device retention, the queue caps and an
 *       operator's erase and pause only remove messages, move cursors and change counts and
 *       flags — never {@code last_seq}, the epoch, ids or the clock (TTL expiry and the caps record in a remembered id why its message went, for
 *       GetStatus; dedup reads only when the id was accepted) —
 *       and forgetting ids only forgets those no later record can match any more.
 * </ul>
 *
 * <p>So replaying the same message records from the same durable state assigns every seq to the
 * same message, whatever events interleave with them and whenever sweeps run: delivering before
 * the state is durable is safe (decision 13). What may differ in a replay is only whether a
 * message is still queued (a cap or TTL removal that came earlier or later) — never which message
 * a seq names.
 *
 * <p><b>Receipts.</b> For a message that asked for them ({@code Message.receipts}, with an id), the
 * machine publishes its fate with the state's open transaction ({@link PartitionState#publish}):
 * ACCEPTED or REJECTED when it takes its seq, ACKED per device as that device's cursor passes it,
 * EXPIRED or REMOVED when a TTL or a full queue deletes it first. They are stamped with the
 * record's time (the sweep's for EXPIRED) and ride the transaction of the change they report, so
 * only the committed life's reach a read-committed consumer. A replay gives every message the same
 * seq, but like the removals above, which fate it reports may differ from what the dead life
 * decided (an ACCEPTED there, a REJECTED here).
 * Each user counts the queued messages that asked ({@code receipt_messages}); while it is 0, an
 * ack reads none of the messages it passes.
 *
 * <p>Pipeline thread only; the states are the partitions'.
 */
final class PartitionMachine {
  /** Bounds the work of one TTL sweep of a partition; the rest goes in the next. */
  static final int MAX_EXPIRED_PER_SWEEP = 10_000;
  /** Bounds the work of forgetting old message ids per sweep of a partition. */
  static final int MAX_IDS_FORGOTTEN_PER_SWEEP = 10_000;

  private final long dedupWindowMs;
  private final QueueLimits limits;
  private final DeviceLimits devices;

  PartitionMachine(long dedupWindowMs, QueueLimits limits, DeviceLimits devices) {
    this.dedupWindowMs = dedupWindowMs;
    this.limits = limits;
    this.devices = devices;
  }

  /**
   * A message for {@code userId} (its record valid, its TTL and creation time set) in a record
   * stamped {@code recordMs}: dropped as a duplicate, or given the user's next seq and queued —
   * or refused, when the queue is full and the policy is to refuse. The message that takes seq 1
   * sets the user's stream epoch to the message clock.
   */
  void message(PartitionState state, String userId, Message message, long recordMs,
      Outcome out) {
    long clock = Math.max(state.messageClock(), recordMs);
    if (clock != state.messageClock()) {
      state.messageClock(clock);
    }
    String id = message.getMessageId();
    boolean dedup = dedupWindowMs > 0 && !id.isEmpty();
    if (dedup) {
      long acceptedAt = state.idAcceptedAt(userId, id);
      if (acceptedAt >= 0 && acceptedAt >= clock - dedupWindowMs) {
        out.duplicates++;
        return;
      }
    }
    UserState.Builder user = state.user(userId).toBuilder();
    long seq = user.getLastSeq() + 1;
    user.setLastSeq(seq);
    if (seq == 1) {
      user.setStreamEpoch(Math.max(1, clock)); // a record stamped 0 or before still names one
    }
    QueuedMessage.Receipts receipts = QueuedMessage.receiptsOf(message);
    int size = message.getSerializedSize();
    if (!fits(user, size)) {
      if (limits.whenFull() == QueueLimits.WhenFull.DROP_OLDEST && size <= limits.maxBytes()) {
        out.dropped += dropOldest(state, userId, user, size, recordMs);
      } else {
        if (dedup) {
          state.putId(userId, id, new AcceptedId(clock, seq, OfflineStore.expiresAt(message),
              AcceptedId.Fate.REJECTED));
        }
        state.putUser(userId, user.build());
        out.rejected(userId);
        publish(state, receipts, userId, "", seq, DeliveryReceipt.State.REJECTED, recordMs);
        return;
      }
    }
    if (dedup) {
      state.putId(userId, id, new AcceptedId(clock, seq, OfflineStore.expiresAt(message),
          AcceptedId.Fate.NONE));
    }
    int stored = state.putMessage(userId, seq, message);
    user.setQueuedCount(user.getQueuedCount() + 1)
        .setQueuedBytes(user.getQueuedBytes() + stored);
    if (receipts != null) {
      user.setReceiptMessages(user.getReceiptMessages() + 1);
      publish(state, receipts, userId, "", seq, DeliveryReceipt.State.ACCEPTED, recordMs);
    }
    state.putUser(userId, user.build());
    out.queued(userId, seq, message);
    if (user.getPaused()) {
      out.paused.add(userId);
    }
  }

  /**
   * Publishes a receipt of the message with the state's open transaction, if the message asked
   * for receipts ({@code receipts} not null).
   */
  private static void publish(PartitionState state, QueuedMessage.Receipts receipts,
      String userId, String deviceId, long seq, DeliveryReceipt.State kind, long atMs) {
    if (receipts != null) {
      state.publish(receipts.receipt(userId, deviceId, seq, kind).setAtMs(atMs).build());
    }
  }

  /**
   * A device connected, acked or went away, as the edge that saw it says, or its push target
   * changed, at {@code recordMs}.
   */
  void event(PartitionState state, DeliveryEvent event, long recordMs, Outcome out) {
    String userId = event.getUserId();
    String device = event.getDeviceId();
    UserState.Builder user = state.user(userId).toBuilder();
    switch (event.getKindCase()) {
      case PUSH_TARGET_CHANGED -> {
        pushTargetChanged(state, userId, user, device, event.getPushTargetChanged(), recordMs);
        return;
      }
      case PUSH_TARGET_INVALID -> {
        pushTargetInvalid(state, userId, user, device, event.getPushTargetInvalid());
        out.pushTargetsInvalidated++;
        return;
      }
      case USER_ERASED -> {
        erase(state, userId, user, recordMs, out);
        return;
      }
      case DELIVERY_PAUSED -> {
        boolean paused = event.getDeliveryPaused().getPaused();
        if (user.getPaused() != paused) {
          state.putUser(userId, user.setPaused(paused).build());
        }
        out.adminChanges.add(new Outcome.AdminChange(userId,
            paused ? Outcome.AdminKind.PAUSED : Outcome.AdminKind.RESUMED,
            out.sessionChanges.size()));
        return;
      }
      default -> { }
    }
    Outcome.Kind kind;
    long cursor = 0;
    switch (event.getKindCase()) {
      case CONNECTED -> {
        kind = Outcome.Kind.CONNECTED;
        cursor = ack(state, userId, user, device, heldSeq(user, event.getConnected()),
            recordMs);
        user.putDeviceConnection(device, event.getConnectionId());
        out.devicesForgotten += retainDevices(state, userId, user, recordMs);
      }
      case ACKED -> {
        kind = Outcome.Kind.ACKED;
        cursor = ack(state, userId, user, device, event.getAcked().getSeq(), recordMs);
        out.devicesForgotten += retainDevices(state, userId, user, recordMs);
      }
      case DISCONNECTED -> {
        kind = Outcome.Kind.DISCONNECTED;
        if (event.getConnectionId().equals(user.getDeviceConnectionOrDefault(device, null))) {
          user.removeDeviceConnection(device);
        }
      }
      default -> throw new IllegalArgumentException("event kind " + event.getKindCase());
    }
    state.putUser(userId, user.build());
    out.changed(kind, userId, device, event.getNodeId(), event.getConnectionId(), cursor);
  }

  /**
   * Erases the user (admin API): every queued message (REMOVED, for GetStatus and receipts),
   * device, cursor and push target. Her last seq, stream epoch and the ids she was sent stay:
   * they are the sequencing part, which only {@code outbound} changes; and a pause stays, so
   * that an operator may pause, then erase, and nothing is delivered in between.
   */
  private void erase(PartitionState state, String userId, UserState.Builder user, long recordMs,
      Outcome out) {
    List<QueuedMessage> page;
    while (!(page = state.queued(userId, user.getPurgedThrough() + 1, Long.MAX_VALUE, 256))
        .isEmpty()) {
      for (QueuedMessage m : page) {
        remove(state, userId, user, m);
        markId(state, userId, m, AcceptedId.Fate.REMOVED);
        publish(state, m.receipts(), userId, "", m.seq(), DeliveryReceipt.State.REMOVED,
            recordMs);
        user.setPurgedThrough(m.seq());
      }
    }
    for (String device : state.pushTargets(userId).keySet()) {
      state.deletePushTarget(userId, device);
    }
    state.putUser(userId, UserState.newBuilder()
        .setLastSeq(user.getLastSeq())
        .setStreamEpoch(user.getStreamEpoch())
        .setPurgedThrough(user.getLastSeq())
        .setPaused(user.getPaused())
        .build());
    out.adminChanges.add(new Outcome.AdminChange(userId, Outcome.AdminKind.ERASED,
        out.sessionChanges.size()));
  }

  /**
   * Sets or removes the device's push target. Setting one counts as hearing of the device, so a
   * device that registers and goes away is kept for the device retention. A device the user's
   * state does not know (forgotten since it connected) sets none: its edge published its
   * Connected first, so it is known unless it was forgotten since, and then it is gone.
   */
  private static void pushTargetChanged(PartitionState state, String userId,
      UserState.Builder user, String device, DeliveryEvent.PushTargetChanged changed,
      long recordMs) {
    boolean had = state.pushTarget(userId, device) != null;
    if (changed.hasTarget()) {
      if (!user.containsDeviceAcked(device)) {
        return;
      }
      state.putPushTarget(userId, device, PushRegistration.newBuilder()
          .setTarget(changed.getTarget()).setSetAtMs(recordMs).build());
      if (!had) {
        user.setPushTargets(user.getPushTargets() + 1);
      }
      if (recordMs > user.getDeviceSeenMsOrDefault(device, Long.MIN_VALUE)) {
        user.putDeviceSeenMs(device, recordMs);
      }
    } else if (had) {
      state.deletePushTarget(userId, device);
      user.setPushTargets(user.getPushTargets() - 1);
    } else {
      return;
    }
    state.putUser(userId, user.build());
  }

  /**
   * Removes the device's push target the notifier found invalid — if it is still the
   * registration the notifier sent to (a device may have set it again since): the same target,
   * set when the request said; for an event that names no such time, set no later than the
   * provider's invalidation time.
   */
  private static void pushTargetInvalid(PartitionState state, String userId,
      UserState.Builder user, String device, DeliveryEvent.PushTargetInvalid invalid) {
    PushRegistration current = state.pushTarget(userId, device);
    boolean same = current != null && current.getTarget().equals(invalid.getTarget())
        && (invalid.getTargetSetAtMs() != 0
            ? current.getSetAtMs() == invalid.getTargetSetAtMs()
            : current.getSetAtMs() <= invalid.getInvalidSinceMs());
    if (same) {
      state.deletePushTarget(userId, device);
      user.setPushTargets(user.getPushTargets() - 1);
      state.putUser(userId, user.build());
    }
  }

  /**
   * The seq a connecting device holds of the user's stream: its {@code last_seq}, or 0 when it
   * names another epoch than the stream's (its seqs belong to an older stream). A device that
   * names none (0) is taken at its word.
   */
  private static long heldSeq(UserState.Builder user, DeliveryEvent.Connected connected) {
    long epoch = connected.getStreamEpoch();
    return epoch != 0 && epoch != user.getStreamEpoch() ? 0 : connected.getLastSeq();
  }

  /**
   * Deletes messages whose TTL ended at or before {@code nowMs}, and forgets the message ids
   * accepted in [{@code idsFromMs}, message clock - dedup window) — ids no later record can match.
   * Returns the time through which ids are forgotten (where the next sweep may start), or
   * {@code idsFromMs} when this sweep stopped at its bound. Wall-clock time decides only when a
   * message goes, never what seq another one gets.
   */
  long expire(PartitionState state, long nowMs, long idsFromMs, Outcome out) {
    Map<String, UserState.Builder> touched = new HashMap<>();
    for (ExpiredMessage expired : state.expired(nowMs, MAX_EXPIRED_PER_SWEEP)) {
      UserState.Builder user =
          touched.computeIfAbsent(expired.userId(), u -> state.user(u).toBuilder());
      remove(state, expired.userId(), user, expired.message());
      markId(state, expired.userId(), expired.message(), AcceptedId.Fate.EXPIRED);
      publish(state, expired.message().receipts(), expired.userId(), "",
          expired.message().seq(), DeliveryReceipt.State.EXPIRED, nowMs);
      out.expired++;
    }
    touched.forEach((userId, user) -> state.putUser(userId, user.build()));
    long idsBefore = state.messageClock() - dedupWindowMs;
    if (dedupWindowMs == 0 || state.messageClock() == 0 || idsBefore <= idsFromMs) {
      return idsFromMs;
    }
    int visited = state.forgetIds(idsFromMs, idsBefore, MAX_IDS_FORGOTTEN_PER_SWEEP);
    return visited < MAX_IDS_FORGOTTEN_PER_SWEEP ? idsBefore : idsFromMs;
  }

  private boolean fits(UserState.Builder user, long size) {
    return user.getQueuedCount() + 1 <= limits.maxMessages()
        && user.getQueuedBytes() + size <= limits.maxBytes();
  }

  /**
   * Deletes the user's oldest queued messages until one more of {@code size} bytes fits; returns
   * how many. Every device's cursor stays; what a device had not received is gone for it.
   */
  private int dropOldest(PartitionState state, String userId, UserState.Builder user, int size,
      long atMs) {
    int dropped = 0;
    while (!fits(user, size)) {
      List<QueuedMessage> oldest =
          state.queued(userId, user.getPurgedThrough() + 1, Long.MAX_VALUE, 256);
      if (oldest.isEmpty()) {
        break;
      }
      for (QueuedMessage m : oldest) {
        if (fits(user, size)) {
          break;
        }
        remove(state, userId, user, m);
        markId(state, userId, m, AcceptedId.Fate.REMOVED);
        publish(state, m.receipts(), userId, "", m.seq(), DeliveryReceipt.State.REMOVED, atMs);
        user.setPurgedThrough(m.seq());
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * Records that the device holds every message up to {@code seq} — a uint64, clamped to the
   * user's last seq; a cursor never moves back — and was seen at {@code atMs}, then deletes what
   * every known device acked. The messages the cursor passed that asked for receipts get an ACKED
   * one for the device. Returns the device's cursor.
   */
  private static long ack(PartitionState state, String userId, UserState.Builder user,
      String device, long seq, long atMs) {
    long current = user.getDeviceAckedOrDefault(device, 0L);
    // Unsigned: a seq of 2^63 or more is a negative long, and beyond the last seq like any other.
    long held = Long.compareUnsigned(seq, user.getLastSeq()) > 0 ? user.getLastSeq() : seq;
    long cursor = Math.max(current, held);
    if (cursor != current || !user.containsDeviceAcked(device)) {
      user.putDeviceAcked(device, cursor);
    }
    if (cursor > current && user.getReceiptMessages() != 0) {
      long from = Math.max(current, user.getPurgedThrough()) + 1;
      for (QueuedMessage m : state.queued(userId, from, cursor, Integer.MAX_VALUE)) {
        publish(state, m.receipts(), userId, device, m.seq(), DeliveryReceipt.State.ACKED, atMs);
      }
    }
    if (atMs > user.getDeviceSeenMsOrDefault(device, Long.MIN_VALUE)) {
      user.putDeviceSeenMs(device, atMs);
    }
    purge(state, userId, user);
    return cursor;
  }

  /**
   * Forgets the user's devices last seen before the retention, then the least recently seen ones
   * without an open connection while more than the cap remain (connected devices may exceed it;
   * they are never cut off mid-stream). Forgotten devices no longer hold messages back, and
   * their push targets go. A device
   * with no time recorded counts as seen now. Returns how many it forgot.
   */
  private int retainDevices(PartitionState state, String userId, UserState.Builder user,
      long nowMs) {
    long unseenBefore = nowMs - devices.retention().toMillis();
    for (String device : user.getDeviceAckedMap().keySet()) {
      if (!user.containsDeviceSeenMs(device)) {
        user.putDeviceSeenMs(device, nowMs);
      }
    }
    List<Map.Entry<String, Long>> byAge = new ArrayList<>(user.getDeviceSeenMsMap().entrySet());
    byAge.sort(Map.Entry.comparingByValue());
    int forgotten = 0;
    int remaining = byAge.size();
    for (Map.Entry<String, Long> device : byAge) {
      boolean stale = device.getValue() < unseenBefore;
      boolean overCap = remaining > devices.maxDevices()
          && !user.containsDeviceConnection(device.getKey());
      if (stale || overCap) {
        user.removeDeviceAcked(device.getKey());
        user.removeDeviceSeenMs(device.getKey());
        user.removeDeviceConnection(device.getKey());
        if (user.getPushTargets() > 0 && state.pushTarget(userId, device.getKey()) != null) {
          state.deletePushTarget(userId, device.getKey());
          user.setPushTargets(user.getPushTargets() - 1);
        }
        forgotten++;
        remaining--;
      }
    }
    if (forgotten > 0) {
      purge(state, userId, user);
    }
    return forgotten;
  }

  /** Deletes what every known device of the user acked. */
  private static void purge(PartitionState state, String userId, UserState.Builder user) {
    long minAcked = user.getDeviceAckedMap().values().stream().mapToLong(Long::longValue).min()
        .orElse(0L);
    if (minAcked <= user.getPurgedThrough()) {
      return;
    }
    for (QueuedMessage m
        : state.queued(userId, user.getPurgedThrough() + 1, minAcked, Integer.MAX_VALUE)) {
      remove(state, userId, user, m);
    }
    user.setPurgedThrough(minAcked);
  }

  /** Records why the message left the queue, for GetStatus, while its id is remembered. */
  private void markId(PartitionState state, String userId, QueuedMessage m,
      AcceptedId.Fate fate) {
    if (dedupWindowMs > 0 && !m.messageId().isEmpty()) {
      state.markId(userId, m.messageId(), m.seq(), fate);
    }
  }

  private static void remove(PartitionState state, String userId, UserState.Builder user,
      QueuedMessage m) {
    state.deleteMessage(userId, m);
    user.setQueuedCount(user.getQueuedCount() - 1)
        .setQueuedBytes(user.getQueuedBytes() - m.size());
    if (m.receipts() != null && user.getReceiptMessages() != 0) {
      // (0 when a core of a version without receipts queued it: it counted nothing)
      user.setReceiptMessages(user.getReceiptMessages() - 1);
    }
  }
}
