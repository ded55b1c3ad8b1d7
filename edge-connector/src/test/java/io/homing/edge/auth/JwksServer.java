package io.homing.edge.auth;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.sun.net.httpserver.HttpServer;
import io.homing.testing.Ports;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real JWK set endpoint on loopback (the JDK's HTTP server): serves the public halves of the
 * keys it is given at {@code /jwks.json}, counts the fetches, and can go down and come back on the
 * same port.
 */
final class JwksServer implements AutoCloseable {
  private final int port = Ports.free();
  private final AtomicInteger fetches = new AtomicInteger();
  private volatile String body = new JWKSet().toString();
  private HttpServer server;

  /** Serves these keys from now on (their public halves only). */
  JwksServer serve(JWK... keys) {
    body = new JWKSet(List.of(keys)).toString(true);
    return this;
  }

  synchronized JwksServer start() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext(
        "/jwks.json",
        exchange -> {
          fetches.incrementAndGet();
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "application/jwk-set+json");
          exchange.sendResponseHeaders(200, bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    server.start();
    return this;
  }

  /** Stops answering: connections to the port are refused until {@link #start}. */
  synchronized void stop() {
    if (server != null) {
      server.stop(0);
      server = null;
    }
  }

  URI url() {
    return URI.create("http://127.0.0.1:" + port + "/jwks.json");
  }

  /** How many times the set was fetched. */
  int fetches() {
    return fetches.get();
  }

  @Override
  public void close() {
    stop();
  }
}
