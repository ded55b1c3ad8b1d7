package io.homing.core.send;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.homing.api.Limits;
import io.homing.api.PushTargets;
import io.homing.api.v1.Acceptance;
import io.homing.api.v1.GetStatusRequest;
import io.homing.api.v1.GetStatusResponse;
import io.homing.api.v1.Message;
import io.homing.api.v1.OutboundMessage;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.SendResponse;
import io.homing.api.v1.SendServiceGrpc;
import io.homing.core.ReceiptPolicy;
import io.homing.core.SendLimits;
import io.homing.core.status.StatusLookup;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public Send API: validates a request, refuses it whole with PERMISSION_DENIED when its
 * sender ({@link SendAuthentication}) may not send to one of the recipients and with
 * RESOURCE_EXHAUSTED when the sender is over its {@link SendLimits} or a recipient's queue is full
 * ({@link FullQueues}), else writes one {@code
 * outbound} record per distinct recipient and answers once Kafka acknowledged all of them. A
 * copy asks for receipts, naming its sender, when the request does or the {@link ReceiptPolicy}
 * covers the sender.
 */
public final class SendService extends SendServiceGrpc.SendServiceImplBase {
  static final int MAX_RECIPIENTS = SendLimits.MAX_RECIPIENTS;
  /**
   * The longest TTL: its milliseconds, and a creation time plus them, fit in a long (longer
   * ones made toMillis throw, and the call fail with UNKNOWN).
   */
  static final long MAX_TTL_SECONDS = Long.MAX_VALUE / 2 / 1000;

  private static final Logger log = LoggerFactory.getLogger(SendService.class);

  private final OutboundProducer producer;
  private final FullQueues fullQueues;
  private final int maxPayloadBytes;
  private final Counter denied;
  private final SendRateLimits rates;
  private final ReceiptPolicy receipts;
  private final StatusLookup statuses;

  /**
   * @param statuses answers GetStatus; null for a service that only sends
   */
  public SendService(OutboundProducer producer, FullQueues fullQueues, int maxPayloadBytes,
      SendLimits limits, ReceiptPolicy receipts, StatusLookup statuses, MeterRegistry meters) {
    this.receipts = receipts;
    this.statuses = statuses;
    this.producer = producer;
    this.rates = new SendRateLimits(limits, meters);
    this.fullQueues = fullQueues;
    this.maxPayloadBytes = maxPayloadBytes;
    this.denied = Counter.builder("homing.send.permission.denied")
        .description("Send API calls refused because their sender may not send to a recipient")
        .register(meters);
  }

  @Override
  public void send(SendRequest request, StreamObserver<SendResponse> response) {
    String invalid = validate(request);
    if (invalid != null) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(invalid).asRuntimeException());
      return;
    }
    Sender sender = SendAuthentication.sender();
    for (String user : request.getUserIdsList()) {
      if (!sender.mayReach(user)) {
        response.onError(denied(sender, user, ": nothing was sent"));
        return;
      }
    }
    String over = rates.tryCall(sender.name(), request.getUserIdsCount());
    if (over != null) {
      response.onError(Status.RESOURCE_EXHAUSTED.withDescription(over).asRuntimeException());
      return;
    }
    String messageId =
        request.getMessageId().isEmpty() ? UUID.randomUUID().toString() : request.getMessageId();
    Message.Builder built =
        Message.newBuilder()
            .setMessageId(messageId)
            .setPayload(request.getPayload())
            .setContentType(request.getContentType())
            .putAllHeaders(request.getHeadersMap())
            .setCreatedAtMs(System.currentTimeMillis())
            .setTtlMs(request.hasTtl() ? ttlMillis(request) : 0);
    if (request.hasNotification()) {
      built.setNotification(request.getNotification());
    }
    if (request.getReceipts() || receipts.coversSender(sender.name())) {
      // The sender keys receipts; a name that is no valid id (a long token subject) is left out.
      built.setReceipts(true).setSender(Limits.isValidId(sender.name()) ? sender.name() : "");
    }
    Message message = built.build();
    List<String> recipients = new ArrayList<>(new LinkedHashSet<>(request.getUserIdsList()));
    fullQueues.full(recipients).whenComplete((full, ignored) -> {
      if (full != null && !full.isEmpty()) {
        response.onError(Status.RESOURCE_EXHAUSTED
            .withDescription("queue full for " + full + ": nothing was sent; retry later")
            .asRuntimeException());
        return;
      }
      produce(messageId, message, recipients, response);
    });
  }

  /**
   * Where a message stands for one recipient, as the owner of her partition says; the caller must
   * be allowed to send to her, and it counts toward the caller's call rate.
   */
  @Override
  public void getStatus(GetStatusRequest request, StreamObserver<GetStatusResponse> response) {
    String user = request.getUserId();
    String messageId = request.getMessageId();
    if (!Limits.isValidId(user) || !Limits.isValidId(messageId)) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(
          "user_id and message_id must be " + Limits.ID_RULE).asRuntimeException());
      return;
    }
    Sender sender = SendAuthentication.sender();
    if (!sender.mayReach(user)) {
      response.onError(denied(sender, user, ""));
      return;
    }
    String over = rates.tryCall(sender.name(), 1);
    if (over != null) {
      response.onError(Status.RESOURCE_EXHAUSTED.withDescription(over).asRuntimeException());
      return;
    }
    statuses.status(user, messageId).whenComplete((status, error) -> {
      if (error != null) {
        response.onError(StatusLookup.asStatus(error));
      } else {
        response.onNext(status);
        response.onCompleted();
      }
    });
  }

  /** Counts a call refused because the sender may not reach the user, and says why. */
  private StatusRuntimeException denied(Sender sender, String user, String outcome) {
    denied.increment();
    return Status.PERMISSION_DENIED.withDescription("sender " + sender.name()
        + " may not send to '" + user + "' (allowed: " + String.join(",", sender.recipients())
        + ")" + outcome).asRuntimeException();
  }

  /** Writes the message for every recipient; answers once Kafka acked them all. */
  private void produce(String messageId, Message message, List<String> recipients,
      StreamObserver<SendResponse> response) {
    List<CompletableFuture<RecordMetadata>> writes = new ArrayList<>(recipients.size());
    for (String user : recipients) {
      writes.add(
          producer.send(OutboundMessage.newBuilder().setUserId(user).setMessage(message).build()));
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new))
        .whenComplete(
            (ok, error) -> {
              if (error != null) {
                log.warn("send of message {} failed: {}", messageId, error.toString());
                response.onError(
                    Status.UNAVAILABLE
                        .withDescription(
                            "Kafka did not accept the message in time; retrying with message_id "
                                + messageId + " is safe")
                        .asRuntimeException());
                return;
              }
              SendResponse.Builder answer = SendResponse.newBuilder().setMessageId(messageId);
              for (int i = 0; i < recipients.size(); i++) {
                RecordMetadata written = writes.get(i).join();
                answer.addAccepted(
                    Acceptance.newBuilder()
                        .setUserId(recipients.get(i))
                        .setPartition(written.partition())
                        .setOffset(written.offset()));
              }
              response.onNext(answer.build());
              response.onCompleted();
            });
  }

  /** Why the request can never succeed, or null when it is valid. */
  String validate(SendRequest request) {
    if (request.getUserIdsCount() == 0) {
      return "user_ids: empty (expected: at least one recipient)";
    }
    if (request.getUserIdsCount() > MAX_RECIPIENTS) {
      return "user_ids: " + request.getUserIdsCount() + " recipients (expected: <= "
          + MAX_RECIPIENTS + ")";
    }
    for (String user : request.getUserIdsList()) {
      if (!Limits.isValidId(user)) {
        return "user_ids: '" + user + "' (expected: " + Limits.ID_RULE + ")";
      }
    }
    if (request.getPayload().size() > maxPayloadBytes) {
      return "payload: " + request.getPayload().size() + " bytes (expected: <= "
          + maxPayloadBytes + ")";
    }
    String messageId = request.getMessageId();
    if (!messageId.isEmpty() && !Limits.isValidId(messageId)) {
      return "message_id: " + messageId.length() + " characters (expected: empty, or "
          + Limits.ID_RULE + ")";
    }
    if (request.hasTtl() && (request.getTtl().getSeconds() < 0 || request.getTtl().getNanos() < 0
        || request.getTtl().getSeconds() > MAX_TTL_SECONDS || ttlMillis(request) == 0)) {
      return "ttl: " + request.getTtl().getSeconds() + "s " + request.getTtl().getNanos()
          + "ns (expected: 1 ms.." + MAX_TTL_SECONDS + " s)";
    }
    if (request.hasNotification()) {
      String notification = PushTargets.invalid(request.getNotification());
      if (notification != null) {
        return notification;
      }
    }
    return null;
  }

  private static long ttlMillis(SendRequest request) {
    return Duration.ofSeconds(request.getTtl().getSeconds(), request.getTtl().getNanos())
        .toMillis();
  }
}
