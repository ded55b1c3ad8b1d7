package io.homing.cli;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.homing.api.v1.DeviceStatus;
import io.homing.api.v1.GetStatusRequest;
import io.homing.api.v1.GetStatusResponse;
import io.homing.api.v1.SendServiceGrpc;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Print where a message stands for one recipient (the Send API's GetStatus): "
        + "queued and which devices acked it, acked by every device, rejected, expired or "
        + "removed. Exit 0; 2 when the message is not remembered for the user; 1 on an error.")
final class StatusCommand implements Callable<Integer> {
  @Option(names = {"-u", "--user"}, required = true, description = "The recipient.")
  String user;

  @Option(names = "--id", required = true, description = "The message id (send prints it).")
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
      GetStatusResponse status = stub.withDeadlineAfter(30, TimeUnit.SECONDS).getStatus(
          GetStatusRequest.newBuilder().setUserId(user).setMessageId(messageId).build());
      System.out.printf("%s for %s: %s, seq %d, accepted %s (answered by %s)%n", messageId, user,
          status.getState(), status.getSeq(), Instant.ofEpochMilli(status.getAcceptedAtMs()),
          status.getAnsweredBy());
      for (DeviceStatus device : status.getDevicesList()) {
        System.out.printf("  %s: %s%s%n", device.getDeviceId(),
            device.getAcked() ? "acked" : device.getDelivered() ? "delivered, not acked"
                : "waiting",
            device.getConnected() ? " (connected)" : "");
      }
      return 0;
    } catch (StatusRuntimeException e) {
      System.err.println("status failed: " + e.getStatus().getCode() + ": "
          + e.getStatus().getDescription());
      return e.getStatus().getCode() == Status.Code.NOT_FOUND ? 2 : 1;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
