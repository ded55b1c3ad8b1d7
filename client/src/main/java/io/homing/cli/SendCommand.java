package io.homing.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.Durations;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.homing.api.Topics;
import io.homing.api.v1.Acceptance;
import io.homing.api.v1.Notification;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.SendResponse;
import io.homing.api.v1.SendServiceGrpc;
import io.homing.runtime.cli.KafkaOptions;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "send", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Send a text message to one or more users through the Send API.")
final class SendCommand implements Callable<Integer> {
  @Option(names = {"-t", "--to"}, required = true, split = ",",
      description = "Recipient user ids.")
  List<String> to;

  @Option(names = {"-m", "--text"}, required = true, description = "The message (UTF-8 text).")
  String text;

  @Option(names = "--id", defaultValue = "", description = "Message id (idempotency key).")
  String messageId;

  @Option(names = "--ttl", paramLabel = "DURATION",
      description = "How long the message may wait for its recipients, an ISO-8601 duration "
          + "such as PT1H (default: the server's).")
  Duration ttl;

  @Option(names = "--notify", paramLabel = "MODE",
      description = "What a push notification shows a recipient none of whose devices is "
          + "connected: ALERT, SILENT or NONE (default: the notifier's).")
  Notification.Mode notifyMode;

  @Option(names = "--notify-title", description = "The notification's title.")
  String notifyTitle;

  @Option(names = "--notify-body", description = "The notification's body.")
  String notifyBody;

  @Option(names = "--server", defaultValue = "${env:HOMING_SEND_API:-127.0.0.1:7400}",
      description = "Send API address (env HOMING_SEND_API).")
  String server;

  @Mixin SendApiOptions sendApi;

  @Option(names = "--wait-delivered", arity = "0..1", fallbackValue = "PT30S",
      paramLabel = "TIMEOUT",
      description = "Ask for delivery receipts and print them as they come, until every "
          + "recipient acked the message on a device (exit 0) or a copy was rejected, removed or "
          + "expired (exit 3); at most TIMEOUT, an ISO-8601 duration (default PT30S; exit 4 when "
          + "it runs out). Reads the topic delivery-receipts from Kafka (--kafka); exit 1 when "
          + "the send or that fails.")
  Duration waitDelivered;

  @Option(names = "--topic-prefix", defaultValue = "${env:HOMING_TOPIC_PREFIX:-}",
      description = "Prefix of the deployment's Kafka topics, as core's, for --wait-delivered "
          + "(env HOMING_TOPIC_PREFIX).")
  String topicPrefix;

  @Mixin KafkaOptions kafka;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    if (waitDelivered != null && (waitDelivered.isNegative() || waitDelivered.isZero())) {
      throw new ParameterException(spec.commandLine(),
          "--wait-delivered: " + waitDelivered + " (expected: a positive duration)");
    }
    if (ttl != null && (ttl.isNegative() || ttl.toMillis() == 0)) {
      throw new ParameterException(spec.commandLine(),
          "--ttl: " + ttl + " (expected: at least 1 ms)");
    }
    ReceiptWatch watch;
    try {
      // Opened before the send, so that no receipt can come before it looks.
      watch = waitDelivered == null ? null
          : new ReceiptWatch(kafka.kafka(), new Topics(topicPrefix).deliveryReceipts());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    } catch (RuntimeException e) {
      System.err.println("cannot read receipts from Kafka at " + kafka.bootstrap() + ": " + e);
      return 1;
    }
    try (watch) {
      return send(watch);
    }
  }

  private int send(ReceiptWatch watch) throws InterruptedException {
    ManagedChannel channel = sendApi.channel(server);
    try {
      SendServiceGrpc.SendServiceBlockingStub stub = SendServiceGrpc.newBlockingStub(channel);
      stub = sendApi.callCredentials().map(stub::withInterceptors).orElse(stub);
      SendRequest.Builder request = SendRequest.newBuilder()
          .addAllUserIds(to)
          .setPayload(ByteString.copyFromUtf8(text))
          .setContentType("text/plain; charset=utf-8")
          .setMessageId(messageId)
          .setReceipts(watch != null);
      if (ttl != null) {
        request.setTtl(Durations.fromMillis(ttl.toMillis()));
      }
      if (notifyMode != null || notifyTitle != null || notifyBody != null) {
        Notification.Builder notification = Notification.newBuilder();
        if (notifyMode != null) {
          notification.setMode(notifyMode);
        }
        if (notifyTitle != null) {
          notification.setTitle(notifyTitle);
        }
        if (notifyBody != null) {
          notification.setBody(notifyBody);
        }
        request.setNotification(notification);
      }
      SendResponse response = stub.withDeadlineAfter(30, TimeUnit.SECONDS).send(request.build());
      System.out.println("message " + response.getMessageId());
      for (Acceptance a : response.getAcceptedList()) {
        System.out.printf(
            "  %s -> outbound partition %d offset %d%n", a.getUserId(), a.getPartition(),
            a.getOffset());
      }
      if (watch == null) {
        return 0;
      }
      Set<String> recipients = new LinkedHashSet<>(to);
      System.out.println("receipts:");
      ReceiptWatch.Result result;
      try {
        result = watch.await(response.getMessageId(), recipients, waitDelivered, System.out);
      } catch (RuntimeException e) {
        System.err.println("sent, but cannot read its receipts: " + e);
        return 1;
      }
      return switch (result) {
        case DELIVERED -> 0;
        case FAILED -> 3;
        case TIMED_OUT -> {
          System.err.println("not acked by every recipient within " + waitDelivered
              + " (a message id accepted before gets no receipts)");
          yield 4;
        }
      };
    } catch (StatusRuntimeException e) {
      System.err.println("send failed: " + e.getStatus().getCode() + ": "
          + e.getStatus().getDescription());
      return 1;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
