package io.homing.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.homing.api.WebhookSignature;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Option;

@Command(name = "webhooks", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Receive the notifier's webhook calls: check each signature and timestamp, "
        + "print the notification, and answer with --status (401 when the signature is wrong). "
        + "For manual tests with listen --webhook (docs/push.md).")
final class WebhooksCommand implements Callable<Integer> {
  /** The local stack's webhook secret; never use it beyond a laptop. */
  static final String DEV_WEBHOOK_SECRET = "whsec_aG9taW5nLWRldi13ZWJob29rLXNlY3JldC1kby1ub3QtdXNl";

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on.")
  String host;

  @Option(names = "--port", defaultValue = "8099", description = "Port to listen on.")
  int port;

  @Option(names = "--secret", split = ",", showDefaultValue = Visibility.NEVER,
      defaultValue = "${env:HOMING_WEBHOOK_SECRETS:-" + DEV_WEBHOOK_SECRET + "}",
      description = "The notifier's signing secrets, whsec_<base64>; a call signed by any of them "
          + "is genuine (env HOMING_WEBHOOK_SECRETS).")
  List<String> secrets;

  @Option(names = "--status", defaultValue = "200",
      description = "The status to answer genuine calls with: 200, or e.g. 503 to see the "
          + "notifier retry, 410 to see it remove the target.")
  int status;

  @Override
  public Integer call() throws IOException, InterruptedException {
    secrets.forEach(WebhookSignature::key); // refuses a malformed secret now, not per call
    HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
    server.createContext("/", this::handle);
    server.start();
    System.out.printf("receiving webhooks on http://%s:%d/ (Ctrl-C to stop)%n", host,
        server.getAddress().getPort());
    System.out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.stop(0);
      stopped.countDown();
    }));
    stopped.await();
    return 0;
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange; InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readAllBytes();
      String id = exchange.getRequestHeaders().getFirst("webhook-id");
      boolean genuine = secrets.stream().anyMatch(secret -> WebhookSignature.verify(secret, id,
          exchange.getRequestHeaders().getFirst("webhook-timestamp"), body,
          exchange.getRequestHeaders().getFirst("webhook-signature"), Instant.now(),
          WebhookSignature.DEFAULT_TOLERANCE));
      int answer = genuine ? status : 401;
      System.out.printf("%s %s %s id=%s -> %d%n  %s%n", Instant.now(),
          exchange.getRequestMethod(), exchange.getRequestURI(), id, answer,
          genuine ? new String(body, StandardCharsets.UTF_8)
              : "(signature or timestamp wrong: not shown)");
      System.out.flush();
      exchange.sendResponseHeaders(answer, -1);
    }
  }
}
