package io.homing.cli;

import io.homing.client.HomingClient;
import io.homing.client.Tokens;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "listen", mixinStandardHelpOptions = true,
    description = "Connect as a user, print every message that arrives and ack it; "
        + "reconnect and resume whenever the connection ends.")
final class ListenCommand implements Callable<Integer> {
  @Option(names = {"-u", "--user"}, required = true, description = "User id.")
  String user;

  @Option(names = {"-d", "--device"}, defaultValue = "cli", description = "Device id.")
  String device;

  @Option(names = "--url", split = ",",
      defaultValue = "${env:HOMING_WS_URL:-ws://127.0.0.1:7410/ws,ws://127.0.0.1:7411/ws}",
      description = "Edge URLs, tried in turn when a connection ends: ws://host:port/ws, "
          + "wss://host:port/ws, tcp://host:port or tls://host:port "
          + "(env HOMING_WS_URL, comma-separated).")
  List<URI> urls;

  @Option(names = "--ca", defaultValue = "${env:HOMING_CA:-}",
      description = "PEM file of the CA that wss:// and tls:// edges' certificates must chain to; "
          + "default: the JDK's trust store (env HOMING_CA).")
  String ca;

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
    Supplier<String> tokens =
        () -> token != null ? token : Tokens.mint(secret, user, device, Duration.ofHours(24));
    CountDownLatch stopped = new CountDownLatch(1);
    HomingClient.Builder builder = HomingClient.builder(urls, tokens).lastSeq(lastSeq);
    if (!ca.isBlank()) {
      builder.trustedCertificates(Path.of(ca));
    }
    try (HomingClient client =
        builder
            .listener(
                (seq, message) -> {
                  System.out.printf(
                      "%s seq=%d id=%s %s%n",
                      Instant.ofEpochMilli(message.getCreatedAtMs()),
                      seq,
                      message.getMessageId(),
                      message.getPayload().toString(StandardCharsets.UTF_8));
                  System.out.flush();
                })
            .onDisconnect(reason -> System.err.println("disconnected (" + reason
                + "); reconnecting"))
            .start()) {
      System.out.printf("listening as %s/%s on %s (Ctrl-C to stop)%n", user, device, urls);
      System.out.flush();
      Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
      stopped.await();
      System.err.printf("stopped after seq %d%n", client.lastDelivered());
      return 0;
    }
  }
}
