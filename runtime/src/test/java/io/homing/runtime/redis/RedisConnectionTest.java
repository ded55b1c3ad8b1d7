package io.homing.runtime.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RedisConnectionTest {
  @Test
  void hidesThePasswordOfTheUrlAndOfTheOptions() {
    assertThat(RedisConnection.of("rediss://homing:s3cret@redis:6380/2").toString())
        .isEqualTo("rediss://homing:***@redis:6380/2");
    assertThat(RedisConnection.of("redis://s3cret@redis:6379").toString())
        .isEqualTo("redis://***@redis:6379");
    assertThat(new RedisConnection("rediss://redis:6380", Optional.of("homing"),
        Optional.of("s3cret"), Optional.empty(), Optional.empty(), Optional.empty()).toString())
        .isEqualTo("rediss://redis:6380 as homing with a password");
  }

  @Test
  void refusesWhatIsNoRedisUrlWithoutEchoingItsPassword() {
    assertThatThrownBy(() -> RedisConnection.of("http://user:s3cret@redis:6379"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Redis URL 'http://user:***@redis:6379' (expected: redis://host:port, "
            + "rediss://host:port or redis[s]-cluster://host:port[,...])");
  }

  @Test
  void aClusterUrlNamesSeedNodesAndNoDatabase() {
    RedisConnection cluster =
        RedisConnection.of("rediss-cluster://homing:s3cret@r1:7000,r2:7001,r3");

    assertThat(cluster.cluster()).isTrue();
    assertThat(cluster.toString()).isEqualTo("rediss-cluster://homing:***@r1:7000,r2:7001,r3");
    assertThat(RedisConnection.of("redis://r1:7000").cluster()).isFalse();
    assertThat(RedisConnection.of("redis-sentinel://s1:26379,s2:26379#mymaster").cluster())
        .isFalse();
    assertThatThrownBy(() -> RedisConnection.of("redis-cluster://homing:s3cret@r1:7000/2"))
        .hasMessage("Redis URL 'redis-cluster://homing:***@r1:7000/2' (expected: "
            + "redis-cluster://[[user]:password@]host:port[,host:port...], a cluster has no "
            + "database number)");
    assertThatThrownBy(cluster::newClient)
        .hasMessage("Redis rediss-cluster://homing:***@r1:7000,r2:7001,r3 is a cluster "
            + "(expected: open())");
  }

  @Test
  void aClusterTakesTlsFilesOnlyWithTls(@TempDir Path dir) throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "");

    assertThat(new RedisConnection("rediss-cluster://r1:7000", Optional.empty(),
        Optional.empty(), Optional.of(ca), Optional.empty(), Optional.empty()).cluster()).isTrue();
    assertThatThrownBy(() -> new RedisConnection("redis-cluster://r1:7000", Optional.empty(),
            Optional.empty(), Optional.of(ca), Optional.empty(), Optional.empty()))
        .hasMessage("Redis TLS files need a rediss:// URL "
            + "(expected: rediss://host:port, not r1:7000 without TLS)");
  }

  @Test
  void aUrlItCannotParseIsNamedWithoutItsPassword() {
    assertThatThrownBy(() -> RedisConnection.of("redis://homing:p w^rd@redis:6379"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Redis URL 'redis://homing:***@redis:6379' cannot be parsed")
        .hasNoCause()
        .hasMessageNotContaining("p w^rd");
  }

  @Test
  void refusesTlsFilesWithoutTls(@TempDir Path dir) throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "");

    assertThatThrownBy(() -> new RedisConnection("redis://redis:6379", Optional.empty(),
            Optional.empty(), Optional.of(ca), Optional.empty(), Optional.empty()))
        .hasMessage("Redis TLS files need a rediss:// URL "
            + "(expected: rediss://host:port, not redis:6379 without TLS)");
  }

  @Test
  void refusesAUserWithoutPasswordAndACertificateWithoutKey(@TempDir Path dir) throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "");

    assertThatThrownBy(() -> new RedisConnection("redis://redis:6379", Optional.of("homing"),
            Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()))
        .hasMessage("a Redis user (homing) needs its password "
            + "(expected: --redis-password or HOMING_REDIS_PASSWORD)");
    assertThatThrownBy(() -> new RedisConnection("rediss://redis:6380", Optional.empty(),
            Optional.empty(), Optional.empty(), Optional.of(cert), Optional.empty()))
        .hasMessage("--redis-tls-cert and --redis-tls-key go together "
            + "(expected: both or neither)");
  }

  @Test
  void namesATlsFileItCannotRead(@TempDir Path dir) {
    Path missing = dir.resolve("ca.pem");

    assertThatThrownBy(() -> new RedisConnection("rediss://redis:6380", Optional.empty(),
            Optional.empty(), Optional.of(missing), Optional.empty(), Optional.empty()))
        .hasMessage("Redis TLS file " + missing + " is not readable");
  }

  @Test
  void aRefusedConnectionNamesTheRedisAndTheReasonAndShutsTheClientDown() {
    RedisConnection nobody = new RedisConnection("redis://127.0.0.1:1", Optional.of("homing"),
        Optional.of("s3cret"), Optional.empty(), Optional.empty(), Optional.empty());
    RedisClient client = nobody.newClient();

    assertThatThrownBy(() -> nobody.connect(client, RedisClient::connect))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "cannot connect to Redis redis://127.0.0.1:1 as homing with a password: ")
        .hasMessageContaining("Connection refused")
        .hasMessageNotContaining("s3cret");
    assertThatThrownBy(client::connect).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aClusterNoNodeOfWhichAnswersIsRefusedTheSameWay() {
    RedisConnection nobody = new RedisConnection("redis-cluster://127.0.0.1:1,127.0.0.1:2",
        Optional.of("homing"), Optional.of("s3cret"), Optional.empty(), Optional.empty(),
        Optional.empty());

    assertThatThrownBy(nobody::open)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("cannot connect to Redis redis-cluster://127.0.0.1:1,127.0.0.1:2 "
            + "as homing with a password: ")
        .hasMessageNotContaining("s3cret");
  }
}
