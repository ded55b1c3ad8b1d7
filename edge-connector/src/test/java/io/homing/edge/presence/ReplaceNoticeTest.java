package io.homing.edge.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ReplaceNoticeTest {
  @Test
  void readsBackWhatItWroteWhateverTheIdsHold() {
    ReplaceNotice notice = new ReplaceNotice("a:1|b", "7:phone", "lx2k-42");

    assertThat(notice.encode()).isEqualTo("5:a:1|b7:7:phonelx2k-42");
    assertThat(ReplaceNotice.decode(notice.encode())).isEqualTo(notice);
    assertThat(ReplaceNotice.decode(new ReplaceNotice("", "", "").encode()))
        .isEqualTo(new ReplaceNotice("", "", ""));
  }

  @Test
  void refusesTextThatIsNoNotice() {
    for (String text : new String[] {"", "alice", "9:alice", "x:alice5:phone", "-1:a1:bc"}) {
      assertThatThrownBy(() -> ReplaceNotice.decode(text))
          .as(text)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("(expected: {length}:{user}{length}:{device}{connection id})");
    }
  }

  @Test
  void refusesALengthThatWouldOverflowPastTheEnd() {
    // A ReplaceNoticeFuzzTest input: colon + 1 + length wrapped around to a negative index.
    assertThatThrownBy(() -> ReplaceNotice.decode("2147483647:alice"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("(expected: {length}:{user}{length}:{device}{connection id})");
  }
}
