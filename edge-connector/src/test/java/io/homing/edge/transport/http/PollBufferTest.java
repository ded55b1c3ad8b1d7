package io.homing.edge.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.api.v1.AuthOk;
import io.homing.api.v1.Error;
import io.homing.api.v1.Pong;
import io.homing.api.v1.Push;
import io.homing.api.v1.ServerFrame;
import java.util.List;
import org.junit.jupiter.api.Test;

class PollBufferTest {
  private final PollBuffer buffer = new PollBuffer(3);

  @Test
  void aPollTakesAuthOkOnceAndThePushesAfterItsAfterEveryTime() {
    buffer.add(ServerFrame.newBuilder().setAuthOk(AuthOk.newBuilder().setUserId("u")).build());
    buffer.add(push(1));
    buffer.add(push(2));

    assertThat(buffer.take(0)).extracting(ServerFrame::getKindCase).containsExactly(
        ServerFrame.KindCase.AUTH_OK, ServerFrame.KindCase.PUSH, ServerFrame.KindCase.PUSH);
    assertThat(seqs(buffer.take(0))).as("a repeated after").containsExactly(1L, 2L);
    assertThat(seqs(buffer.take(1))).containsExactly(2L);
  }

  @Test
  void anAckForgetsThePushesThroughItAndTheirResends() {
    buffer.add(push(1));
    buffer.add(push(2));
    buffer.ack(1);
    buffer.add(push(1));
    buffer.add(push(2));

    assertThat(seqs(buffer.take(0))).containsExactly(2L);
    assertThat(buffer.hasFramesAfter(2)).isFalse();
    assertThat(buffer.hasFramesAfter(1)).isTrue();

    buffer.ack(2);
    buffer.add(push(2)); // core resends from a cursor behind the client's ack
    assertThat(buffer.take(0)).isEmpty();
  }

  @Test
  void aPushBeyondTheCapacityDoesNotFit() {
    assertThat(buffer.add(push(1)) && buffer.add(push(2)) && buffer.add(push(3))).isTrue();
    assertThat(buffer.add(push(4))).isFalse();
    buffer.ack(1);
    assertThat(buffer.add(push(4))).isTrue();
  }

  @Test
  void theEndFollowsThePushesAndPongsAreDropped() {
    buffer.add(ServerFrame.newBuilder().setPong(Pong.getDefaultInstance()).build());
    assertThat(buffer.hasFramesAfter(0)).isFalse();
    buffer.add(push(5));
    buffer.add(ServerFrame.newBuilder()
        .setError(Error.newBuilder().setCode(Error.Code.REPLACED)).build());

    assertThat(buffer.ended()).isTrue();
    assertThat(buffer.hasFramesAfter(5)).isTrue();
    assertThat(buffer.take(0)).extracting(ServerFrame::getKindCase)
        .containsExactly(ServerFrame.KindCase.PUSH, ServerFrame.KindCase.ERROR);
  }

  private static ServerFrame push(long seq) {
    return ServerFrame.newBuilder().setPush(Push.newBuilder().setSeq(seq).setPrevSeq(seq - 1))
        .build();
  }

  private static List<Long> seqs(List<ServerFrame> frames) {
    return frames.stream().map(f -> f.getPush().getSeq()).toList();
  }
}
