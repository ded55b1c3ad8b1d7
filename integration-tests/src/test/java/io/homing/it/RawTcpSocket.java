package io.homing.it;

import io.homing.api.v1.ClientFrame;
import io.homing.api.v1.ServerFrame;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A bare raw-TCP connection (the JDK's sockets, TLS for {@code tls://}) that sends whatever bytes
 * a test wants, to check how the edge treats clients that do not follow the protocol. A thread of
 * its own reads the server's varint32-delimited frames.
 */
final class RawTcpSocket implements AutoCloseable {
  private final LinkedBlockingQueue<ServerFrame> frames = new LinkedBlockingQueue<>();
  /** Completes once the server closed the connection (end of stream, or a reset). */
  final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final Socket socket;
  private final OutputStream out;

  /**
   * @param tls for {@code tls://}: what to trust; the server's name is checked against the URI's
   *     host
   */
  RawTcpSocket(URI uri, SSLContext tls) throws IOException {
    this(uri, tls, null);
  }

  /** A plaintext connection from the local address {@code from} (127.0.0.2, say). */
  RawTcpSocket(URI uri, InetAddress from) throws IOException {
    this(uri, null, from);
  }

  private RawTcpSocket(URI uri, SSLContext tls, InetAddress from) throws IOException {
    if (from != null) {
      socket = new Socket(uri.getHost(), uri.getPort(), from, 0);
    } else if (tls == null) {
      socket = new Socket(uri.getHost(), uri.getPort());
    } else {
      SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(uri.getHost(), uri.getPort());
      SSLParameters parameters = ssl.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      ssl.setSSLParameters(parameters);
      ssl.startHandshake();
      socket = ssl;
    }
    out = socket.getOutputStream();
    InputStream in = socket.getInputStream();
    Thread reader = new Thread(() -> read(in), "raw-tcp-reader");
    reader.setDaemon(true);
    reader.start();
  }

  private void read(InputStream in) {
    try {
      ServerFrame frame;
      while ((frame = ServerFrame.parseDelimitedFrom(in)) != null) {
        frames.add(frame);
      }
    } catch (IOException endedAbruptly) {
      // a reset ends the connection too
    }
    closed.complete(null);
  }

  /** Writes the bytes as they are: a length prefix is the caller's. */
  void sendRaw(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes one frame, its length first. */
  void send(ClientFrame frame) {
    try {
      frame.writeDelimitedTo(out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The next frame the server sent, or null after {@code seconds}. */
  ServerFrame next(int seconds) throws InterruptedException {
    return frames.poll(seconds, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
