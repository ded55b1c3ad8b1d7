package io.homing.core.pipeline;

import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.Limits;
import io.homing.api.PushTargets;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.Message;
import io.homing.api.v1.OutboundMessage;
import io.homing.api.v1.PushTarget;
import java.util.function.ToIntFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What an {@code outbound} or {@code delivery-events} record asks of its partition, decided from
 * the record alone: a message for a user, a device's event, or a reason to skip it. Apart from
 * {@link RecordApplier} so that the checks of what Kafka hands the core run, and are fuzzed,
 * without a broker or a store.
 *
 * <p>A record is skipped when it is keyed for another partition than it is in, does not decode,
 * names another user than its key or an invalid id, is an event of a kind this version does
 * not know, or sets a malformed push target. Stateless and thread-safe.
 */
final class RecordDecoder {
  /** How much of a key or id a skip's reason shows. */
  private static final int MAX_SHOWN = 64;

  /** What a record asks for. */
  sealed interface Decoded permits Queue, Event, Skip {}

  /**
   * Queue {@code message} for {@code userId}: the record's key, a valid id. Its creation time and
   * TTL are set (the record's time, the default TTL, where the record had none), its id is empty
   * or valid.
   */
  record Queue(String userId, Message message) implements Decoded {}

  /** A device's event, of a known kind, whose user (the record's key) and device are valid ids. */
  record Event(DeliveryEvent event) implements Decoded {}

  /** Not applicable, for {@code reason}: a line for the log, about the record alone. */
  record Skip(String reason) implements Decoded {}

  private final String outboundTopic;
  private final long defaultTtlMs;
  private final ToIntFunction<String> partitionOf;

  /**
   * @param outboundTopic the topic of messages; every other topic holds delivery events
   * @param defaultTtlMs the TTL of a message that names none, above 0
   * @param partitionOf the partition a key belongs in (Kafka's default partitioner)
   */
  RecordDecoder(String outboundTopic, long defaultTtlMs, ToIntFunction<String> partitionOf) {
    if (defaultTtlMs <= 0) {
      throw new IllegalArgumentException("defaultTtlMs: " + defaultTtlMs + " (expected: > 0)");
    }
    this.outboundTopic = outboundTopic;
    this.defaultTtlMs = defaultTtlMs;
    this.partitionOf = partitionOf;
  }

  Decoded decode(ConsumerRecord<String, byte[]> record) {
    String key = record.key();
    if (key != null) {
      int belongs = partitionOf.applyAsInt(key);
      if (belongs != record.partition()) {
        return new Skip("key '" + abbreviate(key) + "' belongs in partition " + belongs
            + " (Kafka's default partitioner)");
      }
    }
    return outboundTopic.equals(record.topic()) ? message(record) : event(record);
  }

  private Decoded message(ConsumerRecord<String, byte[]> record) {
    OutboundMessage outbound;
    try {
      outbound = OutboundMessage.parseFrom(record.value());
    } catch (InvalidProtocolBufferException | NullPointerException e) {
      return new Skip("value is not an OutboundMessage");
    }
    String user = outbound.getUserId().isEmpty() ? record.key() : outbound.getUserId();
    if (!Limits.isValidId(user) || !user.equals(record.key())) {
      return new Skip("key '" + abbreviate(record.key()) + "' does not name a valid recipient '"
          + abbreviate(user) + "'");
    }
    String messageId = outbound.getMessage().getMessageId();
    if (!messageId.isEmpty() && !Limits.isValidId(messageId)) {
      return new Skip("message id of " + messageId.length() + " characters (expected: empty, or "
          + Limits.ID_RULE + ")");
    }
    String sender = outbound.getMessage().getSender();
    if (!sender.isEmpty() && !Limits.isValidId(sender)) {
      return new Skip("sender of " + sender.length() + " characters (expected: empty, or "
          + Limits.ID_RULE + ")");
    }
    Message.Builder message = outbound.getMessage().toBuilder();
    if (message.getCreatedAtMs() == 0) {
      message.setCreatedAtMs(record.timestamp());
    }
    if (message.getTtlMs() <= 0) {
      message.setTtlMs(defaultTtlMs);
    }
    return new Queue(user, message.build());
  }

  private static Decoded event(ConsumerRecord<String, byte[]> record) {
    DeliveryEvent event;
    try {
      event = DeliveryEvent.parseFrom(record.value());
    } catch (InvalidProtocolBufferException | NullPointerException e) {
      return new Skip("value is not a DeliveryEvent");
    }
    boolean ofUser = event.getKindCase() == DeliveryEvent.KindCase.USER_ERASED
        || event.getKindCase() == DeliveryEvent.KindCase.DELIVERY_PAUSED;
    if (!Limits.isValidId(event.getUserId()) || !event.getUserId().equals(record.key())
        || (ofUser ? !event.getDeviceId().isEmpty() : !Limits.isValidId(event.getDeviceId()))) {
      return new Skip("event of user '" + abbreviate(event.getUserId()) + "' device '"
          + abbreviate(event.getDeviceId()) + "' keyed '" + abbreviate(record.key()) + "'");
    }
    return switch (event.getKindCase()) {
      case CONNECTED, ACKED, DISCONNECTED, USER_ERASED, DELIVERY_PAUSED -> new Event(event);
      case PUSH_TARGET_CHANGED -> pushTarget(event, event.getPushTargetChanged().hasTarget(),
          event.getPushTargetChanged().getTarget());
      case PUSH_TARGET_INVALID -> pushTarget(event, true,
          event.getPushTargetInvalid().getTarget());
      default -> new Skip("unknown event kind");
    };
  }

  /** The event, if the target it names (when it names one) is well formed. */
  private static Decoded pushTarget(DeliveryEvent event, boolean named, PushTarget target) {
    String invalid = named ? PushTargets.invalid(target) : null;
    return invalid == null ? new Event(event) : new Skip("push target: " + invalid);
  }

  /**
   * The first 64 characters of a string from the record, for a log line: its control characters
   * escaped, so that a key cannot forge lines in the log.
   */
  static String abbreviate(String s) {
    if (s == null) {
      return null;
    }
    int end = s.length() <= MAX_SHOWN ? s.length() : s.offsetByCodePoints(0,
        s.codePointCount(0, MAX_SHOWN));
    StringBuilder shown = new StringBuilder(end + 16);
    for (int i = 0; i < end; i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c)) {
        shown.append(String.format("\\u%04x", (int) c));
      } else {
        shown.append(c);
      }
    }
    return end == s.length() ? shown.toString()
        : shown.append("… (").append(s.length()).append(" chars)").toString();
  }
}
