package io.homing.core.pipeline;

import io.homing.api.v1.DeviceStatus;
import io.homing.api.v1.GetStatusResponse;
import io.homing.store.AcceptedId;
import io.homing.store.PartitionState;
import io.homing.store.v1.UserState;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a message stands for its recipient now (GetStatus), from what the partition remembers of
 * its id — the seq it took, and why it left the queue if not by acks — the queue itself, the
 * devices' cursors and the streams core delivers on. Pipeline thread.
 */
final class MessageStatus {
  private MessageStatus() {}

  /**
   * The message's status, or null when its id is not remembered for the user (never sent to her,
   * forgotten after the dedup window, or remembered by an older core without its seq).
   */
  static GetStatusResponse of(PartitionState state, DeviceStreams streams, String userId,
      String messageId) {
    AcceptedId id = state.acceptedId(userId, messageId);
    if (id == null || id.seq() == 0) {
      return null;
    }
    long seq = id.seq();
    UserState user = state.user(userId);
    GetStatusResponse.Builder status = GetStatusResponse.newBuilder()
        .setSeq(seq)
        .setAcceptedAtMs(id.acceptedAtMs());
    switch (id.fate()) {
      case REJECTED -> {
        return status.setState(GetStatusResponse.State.REJECTED).build();
      }
      case EXPIRED -> {
        return status.setState(GetStatusResponse.State.EXPIRED).build();
      }
      case REMOVED -> {
        return status.setState(GetStatusResponse.State.REMOVED).build();
      }
      default -> { }
    }
    if (!state.queued(userId, seq, seq, 1).isEmpty()) {
      Map<String, DeviceStreams.Stream> open = streams.of(userId);
      for (Map.Entry<String, Long> device : new TreeMap<>(user.getDeviceAckedMap()).entrySet()) {
        boolean acked = device.getValue() >= seq;
        DeviceStreams.Stream stream = open.get(device.getKey());
        status.addDevices(DeviceStatus.newBuilder()
            .setDeviceId(device.getKey())
            .setAcked(acked)
            .setDelivered(!acked && stream != null && stream.sentThrough >= seq)
            .setConnected(stream != null));
      }
      return status.setState(GetStatusResponse.State.QUEUED).build();
    }
    // Gone without a recorded fate: purged once every device acked it.
    return status.setState(GetStatusResponse.State.ACKED).build();
  }
}
