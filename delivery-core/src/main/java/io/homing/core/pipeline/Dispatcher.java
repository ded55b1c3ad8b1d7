package io.homing.core.pipeline;

import io.homing.api.v1.Delivery;
import io.homing.api.v1.DeliveryBatch;
import io.homing.api.v1.Message;
import io.homing.core.routing.EdgeClients;
import io.homing.core.routing.PresenceResolver;
import io.homing.core.routing.PresenceResolver.Route;
import io.homing.store.OfflineStore;
import io.homing.store.StoredMessage;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sends what a committed batch made deliverable, keeping every device's stream in seq order with
 * no gap (see {@link DeviceStreams}):
 *
 * <ol>
 *   <li>a device that connected gets its backlog after its cursor, read from the store (which
 *       already holds this batch's messages);
 *   <li>each new message goes to every stream of its user right after what that stream was sent;
 *   <li>a device that Redis shows connected but core has no stream for (it connected before this
 *       instance owned its partition) is brought up to date from the store first. Redis is read
 *       once per user after the instance took the user's partition; events carry the rest.
 * </ol>
 *
 * <p>Deliveries are grouped into one batch per edge node. Streams on dead nodes are dropped: the
 * device's reconnect elsewhere opens a new one.
 */
final class Dispatcher {
  /** Deliveries per gRPC message; bounds the size of one stream message. */
  static final int MAX_DELIVERIES_PER_MESSAGE = 500;

  private final OfflineStore store;
  private final PresenceResolver presence;
  private final EdgeClients edges;
  private final DeviceStreams streams = new DeviceStreams();

  Dispatcher(OfflineStore store, PresenceResolver presence, EdgeClients edges) {
    this.store = store;
    this.presence = presence;
    this.edges = edges;
  }

  /** Forgets all streams, for a rebalance. */
  void reset() {
    streams.clear();
  }

  void dispatch(AppliedBatch applied) {
    if (applied.isEmpty()) {
      return;
    }
    List<String> unresolved =
        applied.queued.keySet().stream().filter(u -> !streams.resolved(u)).toList();
    Map<String, Map<String, Route>> discovered = presence.devices(unresolved);
    unresolved.forEach(streams::markResolved);
    Set<String> nodes = new HashSet<>();
    applied.sessionChanges.forEach(c -> nodes.add(c.nodeId()));
    discovered.values().forEach(byDevice -> byDevice.values().forEach(r -> nodes.add(r.nodeId())));
    applied.queued.keySet().forEach(u -> streams.of(u).values().forEach(s -> nodes.add(s.nodeId)));
    Outbox outbox = new Outbox(presence.liveNodes(nodes));

    for (AppliedBatch.SessionChange change : applied.sessionChanges) {
      if (!change.connected()) {
        streams.close(change.userId(), change.deviceId(), change.connectionId());
        continue;
      }
      DeviceStreams.Stream current = streams.get(change.userId(), change.deviceId());
      if (current != null && current.connectionId.equals(change.connectionId())) {
        continue; // opened from Redis before its Connected event: already up to date
      }
      openStream(change.userId(), change.deviceId(), change.nodeId(), change.connectionId(),
          change.cursor(), outbox);
    }

    applied.queued.forEach(
        (user, messages) -> {
          discovered
              .getOrDefault(user, Map.of())
              .forEach(
                  (device, route) -> {
                    if (streams.get(user, device) == null) {
                      long cursor = store.userState(user).getDeviceAckedOrDefault(device, 0L);
                      openStream(user, device, route.nodeId(), route.connectionId(), cursor,
                          outbox);
                    }
                  });
          sendLive(user, messages, outbox);
        });
    outbox.flush();
  }

  private void openStream(
      String user, String device, String node, String connectionId, long cursor, Outbox outbox) {
    if (!outbox.isLive(node)) {
      return;
    }
    DeviceStreams.Stream stream = new DeviceStreams.Stream(node, connectionId, cursor);
    streams.open(user, device, stream);
    drain(user, device, stream, outbox);
  }

  private void sendLive(String user, List<AppliedBatch.Queued> messages, Outbox outbox) {
    Iterator<Map.Entry<String, DeviceStreams.Stream>> it =
        streams.of(user).entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, DeviceStreams.Stream> entry = it.next();
      DeviceStreams.Stream stream = entry.getValue();
      if (!outbox.isLive(stream.nodeId)) {
        it.remove();
        continue;
      }
      long first = messages.get(0).seq();
      if (first > stream.sentThrough + 1) {
        drain(user, entry.getKey(), stream, outbox); // would leave a gap: catch up from the store
        continue;
      }
      for (AppliedBatch.Queued q : messages) {
        if (q.seq() > stream.sentThrough) {
          outbox.add(stream.nodeId, delivery(user, entry.getKey(), stream, q.seq(), q.message()));
          stream.sentThrough = q.seq();
        }
      }
    }
  }

  /** Sends the stream everything the store holds after what it was sent. */
  private void drain(String user, String device, DeviceStreams.Stream stream, Outbox outbox) {
    while (true) {
      List<StoredMessage> page =
          store.readAfter(user, stream.sentThrough, MAX_DELIVERIES_PER_MESSAGE);
      for (StoredMessage m : page) {
        outbox.add(stream.nodeId, delivery(user, device, stream, m.seq(), m.message()));
        stream.sentThrough = m.seq();
      }
      if (page.size() < MAX_DELIVERIES_PER_MESSAGE) {
        return;
      }
    }
  }

  private static Delivery delivery(
      String user, String device, DeviceStreams.Stream stream, long seq, Message message) {
    return Delivery.newBuilder()
        .setUserId(user)
        .setDeviceId(device)
        .setConnectionId(stream.connectionId)
        .setSeq(seq)
        .setMessage(message)
        .build();
  }

  /** Deliveries of one dispatch, one batch per live edge node. */
  private final class Outbox {
    private final Map<String, String> addresses;
    private final Map<String, DeliveryBatch.Builder> perNode = new HashMap<>();

    Outbox(Map<String, String> addresses) {
      this.addresses = addresses;
    }

    boolean isLive(String node) {
      return addresses.containsKey(node);
    }

    void add(String node, Delivery delivery) {
      DeliveryBatch.Builder batch = perNode.computeIfAbsent(node, n -> DeliveryBatch.newBuilder());
      batch.addDeliveries(delivery);
      if (batch.getDeliveriesCount() >= MAX_DELIVERIES_PER_MESSAGE) {
        send(node, batch);
      }
    }

    void flush() {
      perNode.forEach(this::send);
    }

    private void send(String node, DeliveryBatch.Builder batch) {
      if (batch.getDeliveriesCount() > 0) {
        edges.send(node, addresses.get(node), batch.build());
        batch.clear();
      }
    }
  }
}
