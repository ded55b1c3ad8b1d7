package io.homing.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class DeliveryRecorderTest {
  private final DeliveryRecorder recorder = new DeliveryRecorder(2);

  @Test
  void countsASeqThatArrivesAgainWithAnotherMessage() {
    recorder.pushed(0, 1, payload(0, 1));
    recorder.pushed(0, 2, payload(0, 2));
    recorder.pushed(0, 2, payload(0, 3));

    assertThat(recorder.correctness().seqConflicts()).isEqualTo(1);
  }

  @Test
  void aRedeliveryOfTheSameMessageIsNoConflict() {
    recorder.pushed(0, 1, payload(0, 1));
    recorder.pushed(0, 1, payload(0, 1));
    recorder.pushed(0, 1, payload(0, 1));

    assertThat(recorder.correctness().seqConflicts()).isZero();
  }

  @Test
  void seqsAreEachUsersOwn() {
    recorder.pushed(0, 1, payload(0, 1));
    recorder.pushed(1, 1, payload(1, 7));

    assertThat(recorder.correctness().seqConflicts()).isZero();
  }

  @Test
  void remembersSeqsFarBeyondTheFirstOnes() {
    recorder.pushed(0, 5, payload(0, 1));
    recorder.pushed(0, 40_000, payload(0, 2));
    recorder.pushed(0, 40_000, payload(0, 9));
    recorder.pushed(0, 5, payload(0, 9));
    recorder.pushed(0, 39_999, payload(0, 9));

    assertThat(recorder.correctness().seqConflicts()).isEqualTo(2);
  }

  private static ByteBuffer payload(int user, long counter) {
    return ByteBuffer.wrap(Payloads.encode(System.nanoTime(), user, counter, 64));
  }
}
