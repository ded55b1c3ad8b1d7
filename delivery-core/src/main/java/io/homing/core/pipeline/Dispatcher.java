package io.homing.core.pipeline;

import io.homing.api.v1.Delivery;
import io.homing.api.v1.DeliveryBatch;
import io.homing.core.routing.EdgeClients;
import io.homing.core.routing.PresenceResolver;
import io.homing.store.OfflineStore;
import io.homing.store.StoredMessage;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sends what a committed batch made deliverable: each connecting device's backlog after its
 * cursor, then each new message to every connected device of its user, grouped into one delivery
 * batch per edge node.
 *
 * <p>A device that connected in this batch gets its backlog read from the store after the
 * commit, which already holds the batch's new messages, so those are not sent to it twice.
 */
final class Dispatcher {
  /** Deliveries per gRPC message; bounds the size of one stream message. */
  static final int MAX_DELIVERIES_PER_MESSAGE = 500;

  private final OfflineStore store;
  private final PresenceResolver presence;
  private final EdgeClients edges;

  Dispatcher(OfflineStore store, PresenceResolver presence, EdgeClients edges) {
    this.store = store;
    this.presence = presence;
    this.edges = edges;
  }

  void dispatch(AppliedBatch applied) {
    if (applied.isEmpty()) {
      return;
    }
    Map<String, List<AppliedBatch.Queued>> live = applied.queued;
    Map<String, Map<String, String>> devices = presence.devices(live.keySet());
    Set<String> nodes = new HashSet<>();
    applied.connects.values().forEach(c -> nodes.add(c.nodeId()));
    devices.values().forEach(byDevice -> nodes.addAll(byDevice.values()));
    Map<String, String> addresses = presence.liveNodes(nodes);

    Map<String, DeliveryBatch.Builder> perNode = new HashMap<>();
    for (AppliedBatch.Connect connect : applied.connects.values()) {
      if (addresses.containsKey(connect.nodeId())) {
        drainBacklog(connect, addresses.get(connect.nodeId()), perNode);
      }
    }
    devices.forEach(
        (user, byDevice) ->
            byDevice.forEach(
                (device, node) -> {
                  if (addresses.containsKey(node) && !applied.connectedInBatch(user, device)) {
                    for (AppliedBatch.Queued q : live.get(user)) {
                      add(perNode, node, addresses.get(node), delivery(user, device, q.seq(),
                          q.message()));
                    }
                  }
                }));
    perNode.forEach((node, batch) -> flush(node, addresses.get(node), batch));
  }

  private void drainBacklog(
      AppliedBatch.Connect connect, String address, Map<String, DeliveryBatch.Builder> perNode) {
    long after = connect.cursor();
    while (true) {
      List<StoredMessage> page =
          store.readAfter(connect.userId(), after, MAX_DELIVERIES_PER_MESSAGE);
      for (StoredMessage m : page) {
        add(perNode, connect.nodeId(), address,
            delivery(connect.userId(), connect.deviceId(), m.seq(), m.message()));
      }
      if (page.size() < MAX_DELIVERIES_PER_MESSAGE) {
        return;
      }
      after = page.get(page.size() - 1).seq();
    }
  }

  private void add(
      Map<String, DeliveryBatch.Builder> perNode, String node, String address, Delivery delivery) {
    DeliveryBatch.Builder batch = perNode.computeIfAbsent(node, n -> DeliveryBatch.newBuilder());
    batch.addDeliveries(delivery);
    if (batch.getDeliveriesCount() >= MAX_DELIVERIES_PER_MESSAGE) {
      flush(node, address, batch);
      batch.clear();
    }
  }

  private void flush(String node, String address, DeliveryBatch.Builder batch) {
    if (batch.getDeliveriesCount() > 0) {
      edges.send(node, address, batch.build());
    }
  }

  private static Delivery delivery(
      String user, String device, long seq, io.homing.api.v1.Message message) {
    return Delivery.newBuilder()
        .setUserId(user)
        .setDeviceId(device)
        .setSeq(seq)
        .setMessage(message)
        .build();
  }
}
