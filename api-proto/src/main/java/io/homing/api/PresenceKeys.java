package io.homing.api;

/**
 * The Redis key layout of presence, shared by the edges that write it and delivery-core that reads
 * it. Every key starts with a configurable prefix (empty by default), so several deployments or
 * tests can share one Redis. Below, [x] stands for a value; braces are literal.
 *
 * <pre>
 * [prefix]edge:[node]        string  the node's gRPC address "host:port"; PX = liveness TTL,
 *                                    refreshed by the live edge. Missing = the node is dead.
 * [prefix]presence:{[user]}  hash    device id → "[node]|[connection id]"; removed on disconnect
 *                                    only if the field still names that connection. An entry
 *                                    whose node is dead means the device is offline.
 * [prefix]full:{[user]}      string  set by delivery-core with a short TTL while the user's
 *                                    queue is full and refuses messages; the Send API refuses
 *                                    at once.
 * [prefix]owner:[p]          string  the core instance that owns partition p and its internal
 *                                    address, "[instance]|host:port"; PX 15 s, refreshed every
 *                                    3 s by the owner. For forwarding GetStatus.
 * [prefix]replaced:[node]    channel pub/sub: the node's connections that a device's newer
 *                                    connection on another node replaced, one message each; the
 *                                    node closes the connection named if it is still the
 *                                    device's.
 * </pre>
 *
 * <p>The user id in braces is a Redis Cluster hash tag: every key of one user hashes to the same
 * slot, so a script or a multi-key command may touch all of them (docs/decisions/0026). A prefix
 * should hold no braces: they would be the tag, and put every key on one master.
 * The other keys are single keys, never used together, and keep the names they had before, so
 * that edges and cores of two versions agree on who is alive during an upgrade. A channel has no
 * slot: {@code PUBLISH} reaches the subscribers on every node of a cluster.
 *
 * <p>Before hash tags, a user's hash was {@code [prefix]presence:[user]}: {@link #legacyPresence}.
 * Off a cluster, the edges move a device's entry from it when the device registers again, and
 * delivery-core reads both, until every edge writes the new key.
 *
 * <p>Presence is soft state: losing all of it delays delivery until devices reconnect; it never
 * loses a message, which lives in the offline store until acked.
 */
public final class PresenceKeys {
  private final String prefix;

  /** @throws IllegalArgumentException for a prefix with a brace ({@link #checkPrefix}) */
  public PresenceKeys(String prefix) {
    this.prefix = checkPrefix(prefix);
  }

  /**
   * The prefix, if it holds no brace: on a Redis Cluster the first {@code {...}} of a key is its
   * hash tag, which must be the user id, so that one user's keys share a slot.
   */
  public static String checkPrefix(String prefix) {
    if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
      throw new IllegalArgumentException("key prefix '" + prefix + "' (expected: no '{' or '}': "
          + "a user's keys are hash-tagged by her id in braces)");
    }
    return prefix;
  }

  public String edge(String nodeId) {
    return prefix + "edge:" + nodeId;
  }

  public String presence(String userId) {
    return prefix + "presence:" + tagged(userId);
  }

  /**
   * The user's presence hash as edges before hash tags wrote it; read and emptied off a cluster
   * only, during an upgrade.
   */
  public String legacyPresence(String userId) {
    return prefix + "presence:" + userId;
  }

  public String fullQueue(String userId) {
    return prefix + "full:" + tagged(userId);
  }

  public String partitionOwner(int partition) {
    return prefix + "owner:" + partition;
  }

  /** The pub/sub channel on which {@code nodeId} hears of its connections replaced elsewhere. */
  public String replaced(String nodeId) {
    return prefix + "replaced:" + nodeId;
  }

  /** The id as a hash tag: only it decides the slot of a key in a Redis Cluster. */
  private static String tagged(String id) {
    return '{' + id + '}';
  }

  /** The value of a device's field in {@link #presence}. */
  public static String route(String nodeId, String connectionId) {
    return nodeId + '|' + connectionId;
  }

  /** The node id of a {@link #route} value. */
  public static String nodeOf(String route) {
    int bar = route.indexOf('|');
    return bar < 0 ? route : route.substring(0, bar);
  }

  /** The connection id of a {@link #route} value; empty when it names none. */
  public static String connectionOf(String route) {
    int bar = route.indexOf('|');
    return bar < 0 ? "" : route.substring(bar + 1);
  }
}
