package io.homing.edge.session;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The connections of this node that have not authenticated yet, counted so that they stay under
 * {@link EdgeLimits#unauthenticated()} on the node and {@link EdgeLimits#unauthenticatedPerAddress()}
 * from one client address. A connection is admitted when it is accepted and leaves once its token
 * verified, it closed, or it turned out to speak plain HTTP (whose requests each carry a token).
 * Thread-safe.
 */
public final class Admission {
  private final int max;
  private final int maxPerAddress;
  private final AtomicInteger admitted = new AtomicInteger();
  /** Only the addresses that have a connection waiting: an entry goes with its last one. */
  private final ConcurrentMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();

  Admission(EdgeLimits limits, MeterRegistry meters) {
    this.max = limits.unauthenticated();
    this.maxPerAddress = limits.unauthenticatedPerAddress();
    Gauge.builder("homing.edge.unauthenticated", admitted, AtomicInteger::get)
        .description("Client connections on this node that have not authenticated yet")
        .register(meters);
  }

  /**
   * Admits a new connection from the address; returns null when it did, else the limit it would
   * pass: {@code unauthenticated} or {@code unauthenticated_per_address}.
   */
  public String admit(InetAddress address) {
    if (admitted.incrementAndGet() > max) {
      admitted.decrementAndGet();
      return EdgeLimits.UNAUTHENTICATED;
    }
    boolean[] full = new boolean[1];
    perAddress.compute(address, (a, n) -> {
      if (n == null) {
        return 1;
      }
      full[0] = n >= maxPerAddress;
      return full[0] ? n : n + 1;
    });
    if (full[0]) {
      admitted.decrementAndGet();
      return EdgeLimits.UNAUTHENTICATED_PER_ADDRESS;
    }
    return null;
  }

  /** A connection {@link #admit admitted} from the address authenticated or ended. */
  void release(InetAddress address) {
    perAddress.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
    admitted.decrementAndGet();
  }

  /** How many connections are admitted now. */
  public int size() {
    return admitted.get();
  }

  /** What one limit allows, in words, for the error that refuses a connection. */
  public String describe(String limit) {
    return limit.equals(EdgeLimits.UNAUTHENTICATED)
        ? "this edge holds " + max + " connections that have not authenticated yet"
        : "this edge holds " + maxPerAddress + " connections from your address that have not "
            + "authenticated yet";
  }
}
