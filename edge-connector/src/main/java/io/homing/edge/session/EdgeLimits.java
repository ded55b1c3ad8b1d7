package io.homing.edge.session;

/**
 * How much one client may ask of an edge node. A client over a limit gets {@code
 * Error{RATE_LIMITED}} and is closed, except a publish over the uplink rate, which gets {@code
 * PublishError{RATE_LIMITED}} on a connection that stays open. Every refusal is counted in
 * {@code homing_edge_rate_limited_total{limit}}.
 *
 * @param framesPerSecond frames a connection may send per second, sustained
 * @param frameBurst frames a connection may send at once, above the sustained rate
 * @param publishesPerSecond Publish frames a user may send per second through this node, summed
 *     over her connections
 * @param publishBurst Publish frames a user may send at once
 * @param connectionsPerUser connections (devices) one user may hold on this node
 * @param unauthenticated connections this node holds that have not authenticated yet
 * @param unauthenticatedPerAddress of those, the most from one client IP address
 */
public record EdgeLimits(
    int framesPerSecond,
    int frameBurst,
    int publishesPerSecond,
    int publishBurst,
    int connectionsPerUser,
    int unauthenticated,
    int unauthenticatedPerAddress) {
  /** The limits' names in {@code homing_edge_rate_limited_total{limit}}. */
  public static final String FRAMES = "frames";
  public static final String PUBLISHES = "publishes";
  public static final String CONNECTIONS_PER_USER = "connections_per_user";
  public static final String UNAUTHENTICATED = "unauthenticated";
  public static final String UNAUTHENTICATED_PER_ADDRESS = "unauthenticated_per_address";

  /**
   * 500 frames per second (a burst of 2,000) per connection, 100 publishes per second (a burst
   * of 200) per user, 16 connections per user, 10,000 unauthenticated connections per node and
   * 256 per address.
   */
  public static EdgeLimits defaults() {
    return new EdgeLimits(500, 2000, 100, 200, 16, 10_000, 256);
  }

  public EdgeLimits {
    requirePositive("framesPerSecond", framesPerSecond);
    requireAtLeast("frameBurst", frameBurst, 1);
    requirePositive("publishesPerSecond", publishesPerSecond);
    requireAtLeast("publishBurst", publishBurst, 1);
    requirePositive("connectionsPerUser", connectionsPerUser);
    requirePositive("unauthenticated", unauthenticated);
    requirePositive("unauthenticatedPerAddress", unauthenticatedPerAddress);
  }

  private static void requirePositive(String name, int value) {
    requireAtLeast(name, value, 1);
  }

  private static void requireAtLeast(String name, int value, int least) {
    if (value < least) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: >= " + least + ")");
    }
  }
}
