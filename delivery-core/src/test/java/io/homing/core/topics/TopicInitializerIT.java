package io.homing.core.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.homing.api.Topics;
import io.homing.runtime.kafka.KafkaConnection;
import io.homing.testing.KafkaBroker;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Which topics core creates on a real broker, with how many partitions. */
class TopicInitializerIT {
  private static final short REPLICATION = 1;

  private final KafkaBroker kafka = KafkaBroker.shared();
  private final Topics topics = new Topics("topics-it-" + UUID.randomUUID() + ".");
  private Admin admin;

  @BeforeEach
  void connect() {
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers()));
  }

  @AfterEach
  void disconnect() {
    admin.close();
  }

  @Test
  void createsEveryTopicWithThePartitionsAsked() throws Exception {
    int count = TopicInitializer.ensureTopics(connection(), topics, 3, REPLICATION);

    assertThat(count).isEqualTo(3);
    assertThat(partitionCounts()).containsOnly(
        Map.entry(topics.outbound(), 3), Map.entry(topics.deliveryEvents(), 3),
        Map.entry(topics.storeChangelog(), 3), Map.entry(topics.inbound(), 3));
    ConfigResource changelog =
        new ConfigResource(ConfigResource.Type.TOPIC, topics.storeChangelog());
    assertThat(admin.describeConfigs(List.of(changelog)).all().get(30, TimeUnit.SECONDS)
        .get(changelog).get(TopicConfig.CLEANUP_POLICY_CONFIG).value())
        .isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
  }

  @Test
  void inboundTakesThePartitionCountOfAnExistingOutbound() throws Exception {
    create(topics.outbound(), 2);
    create(topics.deliveryEvents(), 2);
    create(topics.storeChangelog(), 2);

    int count = TopicInitializer.ensureTopics(connection(), topics, 5, REPLICATION);

    assertThat(count).isEqualTo(2);
    assertThat(partitionCounts()).containsEntry(topics.inbound(), 2);
  }

  @Test
  void anExistingInboundNeedNotBeCoPartitioned() throws Exception {
    create(topics.inbound(), 1);

    int count = TopicInitializer.ensureTopics(connection(), topics, 4, REPLICATION);

    assertThat(count).isEqualTo(4);
    assertThat(partitionCounts()).containsEntry(topics.outbound(), 4)
        .containsEntry(topics.inbound(), 1);
  }

  @Test
  void refusesTopicsThatAreNotCoPartitioned() throws Exception {
    create(topics.outbound(), 2);
    create(topics.deliveryEvents(), 3);

    assertThatThrownBy(() -> TopicInitializer.ensureTopics(connection(), topics, 2,
        REPLICATION))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not co-partitioned");
  }

  private KafkaConnection connection() {
    return KafkaConnection.plaintext(kafka.bootstrapServers());
  }

  private void create(String name, int partitions) throws Exception {
    admin.createTopics(List.of(new NewTopic(name, partitions, REPLICATION))).all()
        .get(30, TimeUnit.SECONDS);
  }

  private Map<String, Integer> partitionCounts() throws Exception {
    List<String> names = List.of(topics.outbound(), topics.deliveryEvents(),
        topics.storeChangelog(), topics.inbound());
    Map<String, TopicDescription> described =
        admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
    Map<String, Integer> counts = new LinkedHashMap<>();
    described.forEach((name, d) -> counts.put(name, d.partitions().size()));
    return counts;
  }
}
