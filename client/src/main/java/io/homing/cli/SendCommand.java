package io.homing.cli;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.homing.api.v1.Acceptance;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.SendResponse;
import io.homing.api.v1.SendServiceGrpc;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "send", mixinStandardHelpOptions = true,
    description = "Send a text message to one or more users through the Send API.")
final class SendCommand implements Callable<Integer> {
  @Option(names = {"-t", "--to"}, required = true, split = ",",
      description = "Recipient user ids.")
  List<String> to;

  @Option(names = {"-m", "--text"}, required = true, description = "The message (UTF-8 text).")
  String text;

  @Option(names = "--id", defaultValue = "", description = "Message id (idempotency key).")
  String messageId;

  @Option(names = "--server", defaultValue = "${env:HOMING_SEND_API:-127.0.0.1:7400}",
      description = "Send API address (env HOMING_SEND_API).")
  String server;

  @Mixin SendApiOptions sendApi;

  @Override
  public Integer call() throws InterruptedException {
    ManagedChannel channel = sendApi.channel(server);
    try {
      SendServiceGrpc.SendServiceBlockingStub stub = SendServiceGrpc.newBlockingStub(channel);
      stub = sendApi.callCredentials().map(stub::withInterceptors).orElse(stub);
      SendResponse response =
          stub.withDeadlineAfter(30, TimeUnit.SECONDS)
              .send(
                  SendRequest.newBuilder()
                      .addAllUserIds(to)
                      .setPayload(ByteString.copyFromUtf8(text))
                      .setContentType("text/plain; charset=utf-8")
                      .setMessageId(messageId)
                      .build());
      System.out.println("message " + response.getMessageId());
      for (Acceptance a : response.getAcceptedList()) {
        System.out.printf(
            "  %s -> outbound partition %d offset %d%n", a.getUserId(), a.getPartition(),
            a.getOffset());
      }
      return 0;
    } catch (StatusRuntimeException e) {
      System.err.println("send failed: " + e.getStatus().getCode() + ": "
          + e.getStatus().getDescription());
      return 1;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
