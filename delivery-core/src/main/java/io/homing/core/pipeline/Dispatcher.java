package io.homing.core.pipeline;

import io.homing.api.v1.Delivery;
import io.homing.api.v1.DeliveryBatch;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.DeviceInfo;
import io.homing.api.v1.Disconnect;
import io.homing.api.v1.Error;
import io.homing.api.v1.GetStatusResponse;
import io.homing.api.v1.Message;
import io.homing.api.v1.Notification;
import io.homing.api.v1.NotificationRequest;
import io.homing.api.v1.StreamOpened;
import io.homing.core.DeliveryPolicy;
import io.homing.core.NotifyPolicy;
import io.homing.core.ReceiptPolicy;
import io.homing.core.routing.EdgeClients;
import io.homing.core.routing.PresenceResolver;
import io.homing.core.routing.PresenceResolver.Route;
import io.homing.store.PartitionState;
import io.homing.store.QueuedMessage;
import io.homing.store.StoredMessage;
import io.homing.store.v1.PushRegistration;
import io.homing.store.v1.UserState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends what applied records made deliverable — at once, before it is durable (see
 * {@link PartitionMachine} for why that is safe) — keeping every device's stream in seq order with
 * no gap (see {@link DeviceStreams}), at most {@link DeliveryPolicy#inflightWindow()} unacked
 * messages ahead of the device's acks:
 *
 * <ol>
 *   <li>a device that connected gets its backlog after its cursor, read from the partition's
 *       state (which already holds the messages just applied);
 *   <li>each new message goes to every stream of its user right after what that stream was sent,
 *       while the stream's window has room; the rest follows from the store as acks come in;
 *   <li>a device that Redis shows connected but core has no stream for (it connected before this
 *       instance owned its partition) is brought up to date from the store first. Redis is read
 *       once per user after the instance took the user's partition; events carry the rest.
 * </ol>
 *
 * <p>A stream whose oldest message in flight is not acked within the ack timeout is sent again
 * from its ack cursor — the client drops seqs it already has — waiting twice as long each time;
 * after {@link DeliveryPolicy#maxRedeliveries()} resends core asks the edge to close the
 * connection, and the device resumes when it reconnects.
 *
 * <p>Every stream opened — for a Connected event, for a device found in Redis, after a rebalance —
 * is announced to its edge with a {@link StreamOpened} (the user's last seq and stream epoch, the
 * device's cursor), which the edge answers the connection's Auth with. It goes in the same
 * {@link DeliveryBatch} as the stream's first delivery or an earlier one, and the edge handles a
 * batch's {@code opened} before its deliveries, so no push reaches a client before its AuthOk.
 * A stream is opened only on a node Redis shows live; for any other no stream and no
 * StreamOpened exist, and its device's next connect opens one.
 *
 * <p>A message that asked for receipts goes out without its {@code receipts} and {@code sender}
 * (they are for its producer, not its recipient), and the edge's WRITTEN answer for it becomes a
 * DELIVERED receipt, published with the partition's next commit ({@link #publishWritten}).
 *
 * <p>A user none of whose devices has a stream when a message is queued for it, or whose last
 * stream closes with messages unacked (a connection that died with messages in flight), and who
 * has devices with push targets, is considered for a notification {@link NotifyPolicy#delay()}
 * later ({@link #notifyDue}): if still nobody's stream is open and Redis shows no connection, the
 * {@link NotificationPlanner}'s requests are published with the partition's open transaction, for
 * the notifier. Messages that come in until then, or within {@link NotifyPolicy#interval()} after
 * a user's last notification, are collapsed into the next one. When Redis does not answer, the
 * due notifications are dropped rather than sent to users who may be online; the next message
 * considers its user again.
 *
 * <p>Deliveries are grouped into one batch per edge node. Streams on dead nodes are dropped: the
 * device's reconnect elsewhere opens a new one. Pipeline thread only.
 */
final class Dispatcher {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  /** Users decided on for notifications per loop turn, at most. */
  static final int MAX_NOTIFY_PER_TURN = 500;

  /** Deliveries, opened streams and disconnects per gRPC message; bounds its size. */
  static final int MAX_ENTRIES_PER_MESSAGE = 500;

  /** A stream's ack deadline, queued; stale once the stream moved its deadline or was replaced. */
  private record Deadline(long at, DeviceStreams.Stream stream) {}

  /** When a user's notification is due; stale once the user's pending time is another. */
  private record NotifyDeadline(long at, String userId) {}

  private final Function<String, PartitionState> stores;
  private final PresenceResolver presence;
  private final EdgeClients edges;
  private final DeliveryPolicy policy;
  private final LongSupplier nanoClock;
  private final DeviceStreams streams = new DeviceStreams();
  private final PriorityQueue<Deadline> deadlines =
      new PriorityQueue<>(Comparator.comparingLong(Deadline::at));
  private final NotifyPolicy notify;
  private final NotificationPlanner planner;
  private final PriorityQueue<NotifyDeadline> notifyDeadlines =
      new PriorityQueue<>(Comparator.comparingLong(NotifyDeadline::at));
  /** Users considered for a notification, and when (nano clock). */
  private final Map<String, Long> notifyPending = new HashMap<>();
  /** When each user was last notified (nano clock), oldest first; kept for the interval. */
  private final LinkedHashMap<String, Long> lastNotified = new LinkedHashMap<>();
  private final Counter redelivered;
  private final Counter disconnected;
  private final Counter notifyUnknown;

  /**
   * @param stores the state holding a user's queue (a user of an owned partition)
   */
  Dispatcher(Function<String, PartitionState> stores, PresenceResolver presence, EdgeClients edges,
      DeliveryPolicy policy, NotifyPolicy notify, ReceiptPolicy receipts, LongSupplier nanoClock,
      MeterRegistry meters) {
    this.stores = stores;
    this.presence = presence;
    this.edges = edges;
    this.policy = policy;
    this.notify = notify;
    this.planner = new NotificationPlanner(receipts);
    this.nanoClock = nanoClock;
    this.notifyUnknown = Counter.builder("homing.notifications.skipped")
        .tag("reason", "presence_unknown")
        .description("Due notifications dropped because Redis did not say who is connected")
        .register(meters);
    this.redelivered = Counter.builder("homing.messages.redelivered")
        .description("Messages sent again because their ack did not come in time")
        .register(meters);
    this.disconnected = Counter.builder("homing.connections.ack.timeouts")
        .description("Connections closed because their device never acked through every resend")
        .register(meters);
  }

  /**
   * Where the user's message stands (GetStatus); null when its id is not remembered. The user's
   * partition must be owned here.
   */
  GetStatusResponse status(String userId, String messageId) {
    return MessageStatus.of(stores.apply(userId), streams, userId, messageId);
  }

  /** How many device connections it streams to. A gauge may read it from another thread. */
  int streams() {
    return streams.size();
  }

  /**
   * Forgets all streams, for a rebalance, the notifications not due yet (the next message of
   * their users considers them again), and the DELIVERED receipts not published yet: their
   * partitions may be applied again from an earlier offset, and they must not precede their
   * message's ACCEPTED.
   */
  void reset() {
    streams.clear();
    deadlines.clear();
    notifyDeadlines.clear();
    notifyPending.clear();
    edges.takeWritten(receipt -> { });
  }

  void dispatch(Outcome applied) {
    if (applied.isEmpty()) {
      return;
    }
    resolve(applied.adminChanges.stream().map(Outcome.AdminChange::userId).toList());
    List<String> unresolved =
        applied.queued.keySet().stream().filter(u -> !streams.resolved(u)).toList();
    Map<String, Map<String, Route>> discovered = presence.devices(unresolved);
    unresolved.forEach(streams::markResolved);
    Set<String> nodes = new HashSet<>();
    applied.sessionChanges.forEach(c -> nodes.add(c.nodeId()));
    discovered.values().forEach(byDevice -> byDevice.values().forEach(r -> nodes.add(r.nodeId())));
    applied.queued.keySet().forEach(u -> streams.of(u).values().forEach(s -> nodes.add(s.nodeId)));
    applied.adminChanges.forEach(
        c -> streams.of(c.userId()).values().forEach(s -> nodes.add(s.nodeId)));
    Outbox outbox = new Outbox(presence.liveNodes(nodes));

    // Operators' changes in log order with the devices': an erase closes the streams opened
    // before it, not a connection that came after it.
    int admin = 0;
    for (int i = 0; i < applied.sessionChanges.size(); i++) {
      admin = adminChanges(applied, admin, i, outbox);
      Outcome.SessionChange change = applied.sessionChanges.get(i);
      DeviceStreams.Stream current = streams.get(change.userId(), change.deviceId());
      switch (change.kind()) {
        case DISCONNECTED -> {
          if (current != null && current.connectionId.equals(change.connectionId())) {
            closed(current);
          }
        }
        case ACKED -> {
          if (current != null) {
            acked(current, change.cursor(), outbox);
          }
        }
        case CONNECTED -> {
          if (current != null && current.connectionId.equals(change.connectionId())) {
            continue; // opened from Redis before its Connected event: already up to date
          }
          openStream(change.userId(), change.deviceId(), change.nodeId(), change.connectionId(),
              change.cursor(), outbox);
        }
      }
    }
    adminChanges(applied, admin, applied.sessionChanges.size(), outbox);

    Set<String> erased = new HashSet<>();
    applied.adminChanges.stream().filter(c -> c.kind() == Outcome.AdminKind.ERASED)
        .forEach(c -> erased.add(c.userId()));
    applied.queued.forEach(
        (user, messages) -> {
          if (erased.contains(user)) {
            return; // what came before the erase is gone; streams opened since drained the rest
          }
          openDiscovered(user, discovered.getOrDefault(user, Map.of()), outbox);
          if (applied.paused.contains(user)) {
            streams.of(user).values().forEach(stream -> stream.behind = true);
            return; // held: resuming drains the streams from the store
          }
          sendLive(user, messages, outbox);
          if (streams.of(user).isEmpty()) {
            considerNotifying(user, messages);
          }
        });
    outbox.flush();
  }

  /**
   * Acts on the operators' changes from {@code from} on that came before session change
   * {@code position}; returns the index of the first one left.
   */
  private int adminChanges(Outcome applied, int from, int position, Outbox outbox) {
    int next = from;
    for (; next < applied.adminChanges.size()
        && applied.adminChanges.get(next).position() <= position; next++) {
      Outcome.AdminChange change = applied.adminChanges.get(next);
      String user = change.userId();
      switch (change.kind()) {
        case ERASED -> {
          notifyPending.remove(user);
          for (DeviceStreams.Stream stream : List.copyOf(streams.of(user).values())) {
            disconnect(stream, Error.Code.KICKED, "the user was erased by an operator", outbox);
          }
        }
        case PAUSED -> notifyPending.remove(user);
        case RESUMED -> {
          for (DeviceStreams.Stream stream : streams.of(user).values()) {
            if (outbox.isLive(stream.nodeId)) {
              // What was in flight when the pause came is sent again with the rest.
              stream.sentThrough = stream.ackedThrough;
              stream.resends = 0;
              stream.ackDeadline = 0;
              drain(stream, outbox);
            }
          }
          if (streams.of(user).isEmpty()) {
            scheduleNotify(user); // what queued during the pause, for her devices away
          }
        }
      }
    }
    return next;
  }

  /**
   * Opens streams for the devices Redis shows connected, of users not looked up since this
   * instance took their partition (no message came for them since): before an operator's change
   * or question acts on a user's streams.
   */
  private void resolve(Collection<String> users) {
    List<String> unresolved =
        users.stream().distinct().filter(u -> !streams.resolved(u)).toList();
    if (unresolved.isEmpty()) {
      return;
    }
    Map<String, Map<String, Route>> discovered = presence.devices(unresolved);
    unresolved.forEach(streams::markResolved);
    Set<String> nodes = new HashSet<>();
    discovered.values().forEach(byDevice -> byDevice.values().forEach(r -> nodes.add(r.nodeId())));
    Outbox outbox = new Outbox(presence.liveNodes(nodes));
    discovered.forEach((user, byDevice) -> openDiscovered(user, byDevice, outbox));
    outbox.flush();
  }

  /** Opens a stream, from the device's cursor, for each device found in Redis without one. */
  private void openDiscovered(String user, Map<String, Route> byDevice, Outbox outbox) {
    byDevice.forEach((device, route) -> {
      if (streams.get(user, device) == null) {
        long cursor = stores.apply(user).user(user).getDeviceAckedOrDefault(device, 0L);
        openStream(user, device, route.nodeId(), route.connectionId(), cursor, outbox);
      }
    });
  }

  /**
   * Asks the edges to close the connections of the user's device, or of all her devices when
   * {@code deviceId} is empty, with {@code Error{KICKED}} (admin API); returns the devices asked.
   */
  List<String> kick(String userId, String deviceId, String reason) {
    resolve(List.of(userId));
    List<DeviceStreams.Stream> kicked = streams.of(userId).values().stream()
        .filter(stream -> deviceId.isEmpty() || stream.deviceId.equals(deviceId)).toList();
    if (kicked.isEmpty()) {
      return List.of();
    }
    Set<String> nodes = new HashSet<>();
    kicked.forEach(stream -> nodes.add(stream.nodeId));
    Outbox outbox = new Outbox(presence.liveNodes(nodes));
    for (DeviceStreams.Stream stream : kicked) {
      disconnect(stream, Error.Code.KICKED, reason, outbox);
    }
    outbox.flush();
    return kicked.stream().map(stream -> stream.deviceId).toList();
  }

  /**
   * What the admin API shows of a user's devices: each known device, with its stream when core
   * has one. The user's partition must be owned here.
   */
  List<DeviceInfo> devices(String userId) {
    resolve(List.of(userId));
    PartitionState state = stores.apply(userId);
    UserState user = state.user(userId);
    Map<String, PushRegistration> targets =
        user.getPushTargets() == 0 ? Map.of() : state.pushTargets(userId);
    Map<String, DeviceStreams.Stream> open = streams.of(userId);
    List<DeviceInfo> devices = new ArrayList<>();
    for (Map.Entry<String, Long> device : new TreeMap<>(user.getDeviceAckedMap()).entrySet()) {
      DeviceInfo.Builder info = DeviceInfo.newBuilder()
          .setDeviceId(device.getKey())
          .setAckedSeq(device.getValue())
          .setLastSeenMs(user.getDeviceSeenMsOrDefault(device.getKey(), 0L));
      DeviceStreams.Stream stream = open.get(device.getKey());
      if (stream != null) {
        info.setConnected(true).setEdgeNode(stream.nodeId).setConnectionId(stream.connectionId)
            .setSentSeq(stream.sentThrough).setInFlight(stream.inFlight());
      }
      PushRegistration target = targets.get(device.getKey());
      if (target != null) {
        info.setPushTarget(target.getTarget().getKindCase().name().toLowerCase(Locale.ROOT));
      }
      devices.add(info.build());
    }
    return devices;
  }

  /**
   * Resends to every stream whose ack is overdue, or asks its edge to close it once it had all
   * its resends. Cheap when nothing is due: call it every loop turn.
   */
  void resendOverdue() {
    long now = nanoClock.getAsLong();
    List<DeviceStreams.Stream> due = new ArrayList<>();
    while (!deadlines.isEmpty() && deadlines.peek().at() <= now) {
      Deadline d = deadlines.poll();
      if (streams.isCurrent(d.stream()) && d.stream().ackDeadline == d.at()) {
        due.add(d.stream()); // else acked, moved on or replaced since
      }
    }
    if (due.isEmpty()) {
      return;
    }
    Set<String> nodes = new HashSet<>();
    due.forEach(stream -> nodes.add(stream.nodeId));
    Outbox outbox = new Outbox(presence.liveNodes(nodes));
    for (DeviceStreams.Stream stream : due) {
      if (!outbox.isLive(stream.nodeId)) {
        closed(stream);
        continue;
      }
      if (stores.apply(stream.userId).user(stream.userId).getPaused()) {
        continue; // held: resuming sends what is in flight again
      }
      if (stream.resends >= policy.maxRedeliveries()) {
        giveUp(stream, outbox);
        continue;
      }
      stream.resends++;
      redelivered.increment(stream.inFlight());
      log.debug("no ack from {}/{} after seq {}: resending {} (resend {})", stream.userId,
          stream.deviceId, stream.ackedThrough, stream.inFlight(), stream.resends);
      stream.sentThrough = stream.ackedThrough;
      stream.ackDeadline = 0;
      drain(stream, outbox);
    }
    outbox.flush();
  }

  /**
   * Schedules the user's notification, unless one is pending, every message asks for none, or
   * the user has no push target.
   */
  private void considerNotifying(String user, List<Outcome.Queued> messages) {
    if (messages.stream().allMatch(
        q -> q.message().getNotification().getMode() == Notification.Mode.NONE)) {
      return;
    }
    scheduleNotify(user);
  }

  /** Schedules the user's notification, unless one is pending or she has no push target. */
  private void scheduleNotify(String user) {
    if (!notify.enabled() || notifyPending.containsKey(user)) {
      return;
    }
    PartitionState state = stores.apply(user);
    if (state == null) {
      return;
    }
    UserState userState = state.user(user);
    if (userState.getPushTargets() == 0 || userState.getPaused()) {
      return;
    }
    long at = nanoClock.getAsLong() + notify.delay().toNanos();
    Long last = lastNotified.get(user);
    if (last != null) {
      at = Math.max(at, last + notify.interval().toNanos());
    }
    notifyPending.put(user, at);
    notifyDeadlines.add(new NotifyDeadline(at, user));
  }

  /**
   * Publishes the notification requests that are due, for users still without a stream whom
   * Redis shows nowhere connected. Cheap when nothing is due: call it every loop turn.
   */
  void notifyDue() {
    long now = nanoClock.getAsLong();
    long interval = notify.interval().toNanos();
    for (var it = lastNotified.values().iterator(); it.hasNext(); ) {
      if (now - it.next() < interval) {
        break;
      }
      it.remove();
    }
    List<String> due = new ArrayList<>();
    // Bounded per turn, so that a broadcast to many offline users cannot hold up delivery: the
    // rest stay due for the next turns.
    while (!notifyDeadlines.isEmpty() && notifyDeadlines.peek().at() <= now
        && due.size() < MAX_NOTIFY_PER_TURN) {
      NotifyDeadline d = notifyDeadlines.poll();
      if (notifyPending.remove(d.userId(), d.at()) && streams.of(d.userId()).isEmpty()) {
        due.add(d.userId());
      }
    }
    if (due.isEmpty()) {
      return;
    }
    Set<String> connected = presence.connected(due);
    if (connected == null) {
      notifyUnknown.increment(due.size());
      return;
    }
    long nowMs = System.currentTimeMillis();
    for (String user : due) {
      PartitionState state = stores.apply(user);
      if (connected.contains(user) || state == null) {
        continue; // a device connected elsewhere; or the partition went away
      }
      List<NotificationRequest> requests = planner.plan(state, user, nowMs);
      requests.forEach(state::requestNotification);
      if (!requests.isEmpty()) {
        lastNotified.remove(user);
        lastNotified.put(user, now);
      }
    }
  }

  private void giveUp(DeviceStreams.Stream stream, Outbox outbox) {
    disconnected.increment();
    disconnect(stream, Error.Code.ACK_TIMEOUT, "no ack after seq " + stream.ackedThrough
        + " through " + stream.resends + " resends", outbox);
  }

  /** Asks the stream's edge to close its connection with an Error of {@code code}. */
  private void disconnect(DeviceStreams.Stream stream, Error.Code code, String reason,
      Outbox outbox) {
    log.info("closing {}/{} on {}: {}", stream.userId, stream.deviceId, stream.nodeId, reason);
    if (outbox.isLive(stream.nodeId)) {
      outbox.disconnect(stream.nodeId, Disconnect.newBuilder()
          .setUserId(stream.userId)
          .setDeviceId(stream.deviceId)
          .setConnectionId(stream.connectionId)
          .setReason(reason)
          .setCode(code)
          .build());
    }
    closed(stream);
  }

  /**
   * Closes the stream. When it left messages unacked — written to a connection that went away
   * before the device acked them, or not sent yet — and was its user's last, the user is
   * considered for a notification, as for a message queued while she had no stream.
   */
  private void closed(DeviceStreams.Stream stream) {
    streams.close(stream.userId, stream.deviceId, stream.connectionId);
    if ((stream.inFlight() > 0 || stream.behind) && streams.of(stream.userId).isEmpty()) {
      scheduleNotify(stream.userId);
    }
  }

  private void acked(DeviceStreams.Stream stream, long cursor, Outbox outbox) {
    if (cursor <= stream.ackedThrough) {
      return;
    }
    stream.ackedThrough = cursor;
    stream.resends = 0;
    if (stream.sentThrough < cursor) {
      stream.sentThrough = cursor; // acked what another connection of the device got
    }
    stream.ackDeadline = 0;
    if (stream.behind && outbox.isLive(stream.nodeId)) {
      drain(stream, outbox); // the window has room again
    }
    armDeadline(stream);
  }

  /**
   * Opens the device's stream on {@code connectionId} from {@code cursor}, tells the edge where it
   * stands (before anything is delivered on it) and sends it the backlog its window allows.
   */
  private void openStream(
      String user, String device, String node, String connectionId, long cursor, Outbox outbox) {
    if (!outbox.isLive(node)) {
      return;
    }
    DeviceStreams.Stream stream = new DeviceStreams.Stream(user, device, node, connectionId,
        cursor);
    streams.open(stream);
    UserState state = stores.apply(user).user(user);
    outbox.opened(node, StreamOpened.newBuilder()
        .setUserId(user)
        .setDeviceId(device)
        .setConnectionId(connectionId)
        .setLastSeq(state.getLastSeq())
        .setStreamEpoch(state.getStreamEpoch())
        .setCursor(cursor)
        .build());
    drain(stream, outbox);
  }

  private void sendLive(String user, List<Outcome.Queued> messages, Outbox outbox) {
    List<DeviceStreams.Stream> dead = new ArrayList<>();
    for (DeviceStreams.Stream stream : streams.of(user).values()) {
      if (!outbox.isLive(stream.nodeId)) {
        dead.add(stream);
        continue;
      }
      for (Outcome.Queued q : messages) {
        if (q.seq() <= stream.sentThrough) {
          continue; // a drain sent it already
        }
        if (stream.inFlight() >= policy.inflightWindow()) {
          stream.behind = true; // the rest follows from the store as acks come in
          break;
        }
        if (q.seq() != stream.sentThrough + 1) {
          drain(stream, outbox); // a seq in between: what the store holds there, or a hole
          break;
        }
        send(stream, q.seq(), q.message(), outbox);
      }
    }
    dead.forEach(this::closed);
  }

  /**
   * Sends the stream what the store holds after what it was sent, as far as its window allows;
   * marks it {@code behind} when the window stopped it, so that acks drain it further.
   */
  private void drain(DeviceStreams.Stream stream, Outbox outbox) {
    PartitionState store = stores.apply(stream.userId);
    if (store.user(stream.userId).getPaused()) {
      stream.behind = true; // held until an operator resumes the user's delivery
      return;
    }
    while (true) {
      long room = policy.inflightWindow() - stream.inFlight();
      if (room <= 0) {
        stream.behind = true;
        return;
      }
      int limit = (int) Math.min(room, MAX_ENTRIES_PER_MESSAGE);
      List<StoredMessage> page = store.readAfter(stream.userId, stream.sentThrough, limit);
      for (StoredMessage m : page) {
        send(stream, m.seq(), m.message(), outbox);
      }
      if (page.size() < limit) {
        stream.behind = false;
        return;
      }
    }
  }

  /**
   * Publishes the DELIVERED receipts of what edges wrote since the last call, each with its
   * partition's open transaction; those of partitions given up since are dropped. Every loop turn.
   */
  void publishWritten() {
    edges.takeWritten(receipt -> {
      PartitionState state = stores.apply(receipt.getUserId());
      if (state != null) {
        state.publish(receipt);
      }
    });
  }

  private void send(DeviceStreams.Stream stream, long seq, Message message, Outbox outbox) {
    QueuedMessage.Receipts receipts = QueuedMessage.receiptsOf(message);
    Message forRecipient = message.getReceipts() || !message.getSender().isEmpty()
        ? message.toBuilder().clearReceipts().clearSender().build() : message;
    Delivery delivery = Delivery.newBuilder()
        .setUserId(stream.userId)
        .setDeviceId(stream.deviceId)
        .setConnectionId(stream.connectionId)
        .setSeq(seq)
        .setPrevSeq(stream.sentThrough)
        .setMessage(forRecipient)
        .build();
    outbox.add(stream.nodeId, delivery, receipts == null ? null
        : receipts.receipt(stream.userId, stream.deviceId, seq, DeliveryReceipt.State.DELIVERED)
            .setNodeId(stream.nodeId).build());
    stream.sentThrough = seq;
    armDeadline(stream);
  }

  /** Starts the ack clock when something is in flight and the clock is not running. */
  private void armDeadline(DeviceStreams.Stream stream) {
    if (stream.ackDeadline == 0 && stream.inFlight() > 0) {
      stream.ackDeadline = nanoClock.getAsLong() + policy.ackWait(stream.resends).toNanos();
      deadlines.add(new Deadline(stream.ackDeadline, stream));
    }
  }

  /**
   * Opened streams, deliveries and disconnects of one dispatch, one batch per live edge node. A
   * batch goes out when it holds {@link #MAX_ENTRIES_PER_MESSAGE} entries, so an opened stream
   * rides with its first delivery or ahead of it, never behind.
   */
  private final class Outbox {
    private final Map<String, String> addresses;
    private final Map<String, DeliveryBatch.Builder> perNode = new HashMap<>();
    /** Per node, the deliveries of its batch whose WRITTEN answer makes a receipt. */
    private final Map<String, List<EdgeClients.Watch>> watched = new HashMap<>();

    Outbox(Map<String, String> addresses) {
      this.addresses = addresses;
    }

    boolean isLive(String node) {
      return addresses.containsKey(node);
    }

    void opened(String node, StreamOpened opened) {
      DeliveryBatch.Builder batch = batch(node);
      batch.addOpened(opened);
      sendIfFull(node, batch);
    }

    /** Adds the delivery; {@code receipt}, if not null, is published if the edge writes it. */
    void add(String node, Delivery delivery, DeliveryReceipt receipt) {
      DeliveryBatch.Builder batch = batch(node);
      if (receipt != null) {
        watched.computeIfAbsent(node, n -> new ArrayList<>())
            .add(new EdgeClients.Watch(batch.getDeliveriesCount(), receipt));
      }
      batch.addDeliveries(delivery);
      sendIfFull(node, batch);
    }

    void disconnect(String node, Disconnect disconnect) {
      DeliveryBatch.Builder batch = batch(node);
      batch.addDisconnects(disconnect);
      sendIfFull(node, batch);
    }

    void flush() {
      perNode.forEach(this::send);
    }

    private DeliveryBatch.Builder batch(String node) {
      return perNode.computeIfAbsent(node, n -> DeliveryBatch.newBuilder());
    }

    private void sendIfFull(String node, DeliveryBatch.Builder batch) {
      if (entries(batch) >= MAX_ENTRIES_PER_MESSAGE) {
        send(node, batch);
      }
    }

    private int entries(DeliveryBatch.Builder batch) {
      return batch.getOpenedCount() + batch.getDeliveriesCount() + batch.getDisconnectsCount();
    }

    private void send(String node, DeliveryBatch.Builder batch) {
      if (entries(batch) > 0) {
        List<EdgeClients.Watch> receipts = watched.remove(node);
        edges.send(node, addresses.get(node), batch.build(),
            receipts == null ? List.of() : receipts);
        batch.clear();
      }
    }
  }
}
