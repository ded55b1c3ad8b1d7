package io.homing.cli;

import io.homing.api.PushTargets;
import io.homing.api.v1.PushTarget;
import io.homing.api.v1.PushTargetError;
import io.homing.client.HomingClient;
import io.homing.client.HomingConnection;
import io.homing.client.PushTargetRefusedException;
import io.homing.client.Tokens;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "listen", mixinStandardHelpOptions = true, showDefaultValues = true,
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

  @Option(names = "--secret", showDefaultValue = Visibility.NEVER,
      defaultValue = "${env:HOMING_JWT_SECRET:-" + HomingCli.DEV_SECRET + "}",
      description = "HS256 secret to mint the token with (env HOMING_JWT_SECRET); "
          + "default the local stack's development secret.")
  String secret;

  @Option(names = "--token", description = "Use this token instead of minting one.")
  String token;

  @Option(names = "--last-seq", defaultValue = "0",
      description = "Highest seq this device already holds.")
  long lastSeq;

  @Spec CommandSpec spec;

  @ArgGroup(exclusive = true)
  PushOptions push;

  @Option(names = "--apns-sandbox", description = "The --apns-token is of APNs' development "
      + "environment.")
  boolean apnsSandbox;

  /** Where this device is notified while it is away, registered once connected. */
  static final class PushOptions {
    @Option(names = "--webhook", description = "Register this URL as the device's push target: "
        + "while it is away, the notifier POSTs a signed notification to it (the edge must allow "
        + "its prefix, --push-webhook-allow).")
    URI webhook;

    @Option(names = "--fcm-token", description = "Register this FCM registration token as the "
        + "device's push target.")
    String fcmToken;

    @Option(names = "--apns-token", description = "Register this APNs device token (hex) as the "
        + "device's push target (production; add --apns-sandbox for the development "
        + "environment).")
    String apnsToken;

    @Option(names = "--no-push-target", description = "Remove the device's push target.")
    boolean none;

    /** The target to register; null to remove it. */
    PushTarget target(boolean apnsSandbox) {
      if (webhook != null) {
        return PushTarget.newBuilder()
            .setWebhook(PushTarget.Webhook.newBuilder().setUrl(webhook.toString())).build();
      }
      if (fcmToken != null) {
        return PushTarget.newBuilder()
            .setFcm(PushTarget.Fcm.newBuilder().setRegistrationToken(fcmToken)).build();
      }
      if (apnsToken != null) {
        return PushTarget.newBuilder().setApns(PushTarget.Apns.newBuilder()
            .setDeviceToken(apnsToken).setSandbox(apnsSandbox)).build();
      }
      return null;
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    if (apnsSandbox && (push == null || push.apnsToken == null)) {
      throw new ParameterException(spec.commandLine(), "--apns-sandbox goes with --apns-token");
    }
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
      if (push != null && !register(client, push.target(apnsSandbox))) {
        return 1;
      }
      Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
      stopped.await();
      System.err.printf("stopped after seq %d%n", client.lastDelivered());
      return 0;
    }
  }

  /**
   * Registers the device's push target on a connection that authenticated, trying again (on the
   * next connection, or after a back-off) for 30 s; false, having said why, when it could not.
   */
  private static boolean register(HomingClient client, PushTarget target)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String last = "no connection authenticated";
    while (System.nanoTime() < deadline) {
      HomingConnection connection = client.connection();
      try {
        connection.authenticated().get(1, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        continue; // not authenticated yet
      } catch (ExecutionException e) {
        last = "connecting failed: " + e.getCause().getMessage();
        Thread.sleep(200); // the client is reconnecting
        continue;
      }
      try {
        connection.setPushTarget(target).get(10, TimeUnit.SECONDS);
        System.out.println(target == null ? "push target removed"
            : "push target registered: " + PushTargets.describe(target));
        return true;
      } catch (TimeoutException e) {
        last = "no answer within 10 s";
      } catch (ExecutionException e) {
        if (e.getCause() instanceof PushTargetRefusedException refused) {
          PushTargetError.Code code = refused.error().getCode();
          if (code != PushTargetError.Code.UNAVAILABLE
              && code != PushTargetError.Code.RATE_LIMITED) {
            System.err.println("push target refused: " + refused.getMessage());
            return false;
          }
        }
        last = e.getCause().getMessage();
        Thread.sleep(1_000);
      }
    }
    System.err.println("push target not registered within 30 s: " + last);
    return false;
  }
}
