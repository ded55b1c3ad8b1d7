package io.homing.edge.presence;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.homing.api.PresenceKeys;
import java.nio.charset.StandardCharsets;

/**
 * What a node reads from Redis about its connections: replace notices from its pub/sub channel
 * and presence routes. Any text decodes to a notice or fails with IllegalArgumentException, and
 * what was written reads back, whatever the ids hold. See docs/fuzzing.md.
 */
class ReplaceNoticeFuzzTest {
  @FuzzTest
  void decodesNoticesOrRefusesThem(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    try {
      ReplaceNotice read = ReplaceNotice.decode(text);
      assertThat(ReplaceNotice.decode(read.encode())).isEqualTo(read);
    } catch (IllegalArgumentException refused) {
      assertThat(refused).hasMessageContaining("(expected: {length}:{user}");
    }

    int third = text.length() / 3;
    ReplaceNotice written = new ReplaceNotice(text.substring(0, third),
        text.substring(third, 2 * third), text.substring(2 * third));
    assertThat(ReplaceNotice.decode(written.encode())).isEqualTo(written);

    String node = written.userId().replace("|", "");
    String route = PresenceKeys.route(node, written.connectionId());
    assertThat(PresenceKeys.nodeOf(route)).isEqualTo(node);
    assertThat(PresenceKeys.connectionOf(route)).isEqualTo(written.connectionId());
    PresenceKeys.nodeOf(text);
    PresenceKeys.connectionOf(text);
  }
}
