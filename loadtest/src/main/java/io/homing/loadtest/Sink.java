package io.homing.loadtest;

/** Where the publisher hands messages: Kafka's {@code outbound}, the Send API, a raw topic. */
interface Sink extends AutoCloseable {
  /** Publishes asynchronously; must not block beyond the client's own buffering. */
  void publish(String userId, byte[] payload);

  /** Publishes that failed so far. */
  long failures();

  /** Waits until everything published is acknowledged, or gives up. */
  void flush();

  @Override
  void close();
}
