package io.homing.edge.events;

import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.InboundMessage;
import io.homing.api.v1.Publish;
import io.homing.api.v1.PushTarget;
import io.homing.edge.session.Uplink;
import io.homing.runtime.kafka.KafkaConnection;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes what this node observes — connects, disconnects, acks, push targets set — to
 * {@code delivery-events},
 * keyed by user id so that delivery-core applies them on the thread that owns the user; and what
 * clients publish to {@code inbound}, keyed by the sender's user id.
 *
 * <p>Never blocks the caller beyond the producer's buffer: safe on an event loop. The producer is
 * idempotent with acks=all, so a published event is neither lost to a broker failover nor
 * duplicated by a retry.
 */
public final class DeliveryEventPublisher implements Uplink, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DeliveryEventPublisher.class);

  /**
   * How long events wait to share a produce request. One ack per delivered message, each its own
   * request, cost the broker more CPU than the messages themselves; an ack only drives deletion,
   * and a connect waits this long at most.
   */
  static final int LINGER_MS = 20;

  private final String nodeId;
  private final String topic;
  private final String inboundTopic;
  private final KafkaProducer<String, byte[]> producer;

  public DeliveryEventPublisher(
      KafkaConnection kafka, String topic, String inboundTopic, String nodeId) {
    this.nodeId = nodeId;
    this.topic = topic;
    this.inboundTopic = inboundTopic;
    Map<String, Object> config = kafka.clientConfig();
    config.putAll(Map.of(
        ProducerConfig.CLIENT_ID_CONFIG, "homing-edge-" + nodeId,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.LINGER_MS_CONFIG, LINGER_MS));
    this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
  }

  public void connected(
      String userId, String deviceId, String connectionId, long lastSeq, long streamEpoch) {
    publish(
        event(userId, deviceId, connectionId)
            .setConnected(
                DeliveryEvent.Connected.newBuilder()
                    .setLastSeq(lastSeq)
                    .setStreamEpoch(streamEpoch)));
  }

  public void disconnected(String userId, String deviceId, String connectionId) {
    publish(
        event(userId, deviceId, connectionId)
            .setDisconnected(DeliveryEvent.Disconnected.getDefaultInstance()));
  }

  public void acked(String userId, String deviceId, String connectionId, long seq) {
    publish(
        event(userId, deviceId, connectionId)
            .setAcked(DeliveryEvent.Acked.newBuilder().setSeq(seq)));
  }

  private DeliveryEvent.Builder event(String userId, String deviceId, String connectionId) {
    return DeliveryEvent.newBuilder()
        .setUserId(userId)
        .setDeviceId(deviceId)
        .setNodeId(nodeId)
        .setConnectionId(connectionId)
        .setAtMs(System.currentTimeMillis());
  }

  private void publish(DeliveryEvent.Builder event) {
    DeliveryEvent built = event.build();
    producer.send(
        new ProducerRecord<>(topic, built.getUserId(), built.toByteArray()),
        (metadata, error) -> {
          if (error != null) {
            log.warn(
                "cannot publish {} of user {}: {}", built.getKindCase(), built.getUserId(),
                error.toString());
          }
        });
  }

  @Override
  public void publish(String userId, String deviceId, String connectionId, Publish publish,
      Consumer<Exception> done) {
    InboundMessage message =
        InboundMessage.newBuilder()
            .setUserId(userId)
            .setDeviceId(deviceId)
            .setNodeId(nodeId)
            .setMessageId(publish.getMessageId())
            .setPayload(publish.getPayload())
            .setContentType(publish.getContentType())
            .setReceivedAtMs(System.currentTimeMillis())
            .build();
    try {
      producer.send(
          new ProducerRecord<>(inboundTopic, userId, message.toByteArray()),
          (metadata, error) -> done.accept(error));
    } catch (KafkaException e) {
      done.accept(e);
    }
  }

  @Override
  public void pushTarget(String userId, String deviceId, String connectionId, PushTarget target,
      Consumer<Exception> done) {
    DeliveryEvent.PushTargetChanged.Builder changed = DeliveryEvent.PushTargetChanged.newBuilder();
    if (target != null) {
      changed.setTarget(target);
    }
    DeliveryEvent event = event(userId, deviceId, connectionId).setPushTargetChanged(changed)
        .build();
    try {
      producer.send(new ProducerRecord<>(topic, userId, event.toByteArray()),
          (metadata, error) -> done.accept(error));
    } catch (KafkaException e) {
      done.accept(e);
    }
  }

  /** Sends what is buffered (up to 5 s), then closes. */
  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
