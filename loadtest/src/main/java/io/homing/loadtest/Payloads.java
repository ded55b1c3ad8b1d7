package io.homing.loadtest;

import java.nio.ByteBuffer;

/**
 * The load generator's payload: when it was due to be published (this JVM's nano clock, so only
 * the process that publishes can measure it — which is the load generator itself), which user it
 * is for, and that user's message counter. Padded to the requested size.
 *
 * <pre>[u64 due nanos][u32 user index][u64 per-user counter][padding]</pre>
 */
final class Payloads {
  static final int HEADER_BYTES = 20;

  private Payloads() {}

  static byte[] encode(long dueNanos, int user, long counter, int size) {
    byte[] bytes = new byte[Math.max(size, HEADER_BYTES)];
    ByteBuffer.wrap(bytes).putLong(dueNanos).putInt(user).putLong(counter);
    return bytes;
  }

  static long dueNanos(ByteBuffer payload) {
    return payload.getLong(0);
  }

  static int user(ByteBuffer payload) {
    return payload.getInt(8);
  }

  static long counter(ByteBuffer payload) {
    return payload.getLong(12);
  }
}
