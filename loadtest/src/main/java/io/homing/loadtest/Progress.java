package io.homing.loadtest;

import java.io.PrintStream;

/** One line a second of live progress on stderr, so stdout stays the report's. */
final class Progress {
  private static final PrintStream OUT = System.err;

  private Progress() {}

  static void line(String format, Object... args) {
    OUT.printf(format + "%n", args);
  }

  static void sample(String what, DeliveryRecorder.Sample s) {
    line("%-10s t=%5.1fs sent=%8.0f/s delivered=%8.0f/s p50=%7.2fms p99=%7.2fms", what,
        s.atSeconds(), s.sentPerSecond(), s.deliveredPerSecond(), s.p50Millis(), s.p99Millis());
  }
}
