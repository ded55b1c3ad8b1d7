package io.homing.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.homing.runtime.tls.Reloading;
import io.homing.runtime.tls.ServerTls;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * A process's meters, served for Prometheus at {@code GET /metrics}, with {@code GET /health}
 * answering 200 while the process is healthy and 503 once it is not. JVM meters (memory, GC,
 * threads, CPU) are registered too. Uses the JDK's own HTTP server: two small endpoints do not
 * need a web framework.
 *
 * <p>With TLS, both are served over HTTPS only; with a client CA as well, {@code /metrics} answers
 * 403 to a client without a certificate of that CA (a certificate of another CA fails the
 * handshake), while {@code /health}, which tells nothing but up or down, stays open to probes
 * that have no certificate.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final HttpServer server;
  /** Null for plain HTTP. */
  private final Reloading<SSLContext> tls;
  /** Whether /metrics asks for a client certificate. */
  private final boolean verifiesClients;

  /** Listens on {@code address} (port 0 for any free one); {@code healthy} backs /health. */
  public MetricsEndpoint(InetSocketAddress address, BooleanSupplier healthy) {
    this(address, healthy, Optional.empty());
  }

  /**
   * Listens on {@code address} (port 0 for any free one), over HTTPS with {@code tls} when
   * present; {@code healthy} backs /health.
   */
  public MetricsEndpoint(
      InetSocketAddress address, BooleanSupplier healthy, Optional<ServerTls> tls) {
    this.tls = tls.map(ServerTls::sslContext).orElse(null);
    this.verifiesClients = tls.flatMap(ServerTls::clientCa).isPresent();
    try {
      server = this.tls == null ? HttpServer.create(address, 0)
          : https(address, this.tls.credentials(), verifiesClients);
    } catch (IOException e) {
      if (this.tls != null) {
        this.tls.close();
      }
      throw new UncheckedIOException("cannot serve metrics on " + address, e);
    }
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    server.createContext("/metrics", exchange -> {
      if (verifiesClients && !presentedCertificate(exchange)) {
        answer(exchange, 403, "text/plain; charset=utf-8",
            "/metrics asks for a client certificate of the metrics client CA\n");
        return;
      }
      answer(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
    });
    server.createContext("/health", exchange -> {
      boolean ok = healthy.getAsBoolean();
      answer(exchange, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ok\n" : "failing\n");
    });
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "metrics-http");
      t.setDaemon(true);
      return t;
    }));
    server.start();
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The bound address (the real port when asked for port 0). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    gc.close();
    registry.close();
    if (tls != null) {
      tls.close();
    }
  }

  private static HttpsServer https(InetSocketAddress address, SSLContext context,
      boolean verifiesClients) throws IOException {
    HttpsServer server = HttpsServer.create(address, 0);
    server.setHttpsConfigurator(new HttpsConfigurator(context) {
      @Override
      public void configure(HttpsParameters params) {
        SSLParameters parameters = getSSLContext().getDefaultSSLParameters();
        // Asked for, not required: probes of /health have no certificate.
        parameters.setWantClientAuth(verifiesClients);
        params.setSSLParameters(parameters);
      }
    });
    return server;
  }

  /** Whether the client presented a certificate, which the handshake then verified. */
  private static boolean presentedCertificate(HttpExchange exchange) {
    try {
      return ((HttpsExchange) exchange).getSSLSession().getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException e) {
      return false;
    }
  }

  private static void answer(HttpExchange exchange, int status, String contentType, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    if ("HEAD".equals(exchange.getRequestMethod())) {
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
      return;
    }
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}
