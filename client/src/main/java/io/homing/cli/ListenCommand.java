package io.homing.cli;

import io.homing.api.v1.AuthOk;
import io.homing.client.HomingConnection;
import io.homing.client.Tokens;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "listen", mixinStandardHelpOptions = true,
    description = "Connect as a user, print every message that arrives and ack it.")
final class ListenCommand implements Callable<Integer> {
  @Option(names = {"-u", "--user"}, required = true, description = "User id.")
  String user;

  @Option(names = {"-d", "--device"}, defaultValue = "cli", description = "Device id.")
  String device;

  @Option(names = "--url", defaultValue = "${env:HOMING_WS_URL:-ws://127.0.0.1:7410/ws}",
      description = "Edge WebSocket URL (env HOMING_WS_URL).")
  URI url;

  @Option(names = "--secret", defaultValue = "${env:HOMING_JWT_SECRET:-" + HomingCli.DEV_SECRET
      + "}", description = "HS256 secret to mint the token with (env HOMING_JWT_SECRET).")
  String secret;

  @Option(names = "--token", description = "Use this token instead of minting one.")
  String token;

  @Option(names = "--last-seq", defaultValue = "0",
      description = "Highest seq this device already holds.")
  long lastSeq;

  @Override
  public Integer call() throws InterruptedException {
    String jwt = token != null ? token : Tokens.mint(secret, user, device, Duration.ofHours(24));
    try (HomingConnection connection =
        HomingConnection.builder(url, jwt)
            .lastSeq(lastSeq)
            .listener(
                (seq, message) ->
                    System.out.printf(
                        "%s seq=%d id=%s %s%n",
                        Instant.ofEpochMilli(message.getCreatedAtMs()),
                        seq,
                        message.getMessageId(),
                        message.getPayload().toString(StandardCharsets.UTF_8)))
            .connect()) {
      AuthOk ok = connection.authenticated().get();
      System.out.printf(
          "listening as %s/%s on %s (Ctrl-C to stop)%n", ok.getUserId(), ok.getDeviceId(),
          ok.getNodeId());
      System.out.flush();
      String reason = connection.closed().get();
      System.err.println("closed: " + reason);
      return 1;
    } catch (ExecutionException e) {
      System.err.println("cannot listen: " + e.getCause().getMessage());
      return 1;
    }
  }
}
