package io.homing.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports for test servers that are started after their port is chosen (often in
 * another process).
 *
 * <p>Ports come from below the kernel's ephemeral range: a port handed out by binding port 0 is an
 * ephemeral one, and any outgoing connection (a Kafka client, say) may take it as its local port
 * before the server binds it, which then fails with "Address already in use". Below the range only
 * servers bind, and this class never hands out the same port twice.
 */
public final class Ports {
  private static final int LOWEST = 10_000;
  private static final Set<Integer> handedOut = new HashSet<>();

  private Ports() {}

  /** A port that was free on 127.0.0.1 a moment ago and that no other caller got. */
  public static synchronized int free() {
    int highest = ephemeralStart() - 1;
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOWEST, highest + 1);
      if (!handedOut.contains(port) && isFree(port)) {
        handedOut.add(port);
        return port;
      }
    }
    throw new IllegalStateException("no free port on loopback in " + LOWEST + ".." + highest);
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The first port of the kernel's ephemeral range (Linux), or 32768 where it cannot be read. */
  private static int ephemeralStart() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      return Math.max(LOWEST + 1_000, Integer.parseInt(range.split("\\s+")[0]));
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
