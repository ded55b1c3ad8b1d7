package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Durations;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.DeliveryReceipt.State;
import io.homing.api.v1.SendRequest;
import io.homing.cli.HomingCli;
import io.homing.core.ReceiptPolicy;
import io.homing.runtime.kafka.KafkaConnection;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * Delivery receipts end to end: what a sender reads from {@code delivery-receipts} for messages
 * that ask, and what {@code homing-cli send --wait-delivered} makes of them.
 */
class ReceiptsIT {
  @Nested
  class ForMessagesThatAsk {
    @RegisterExtension final TestCluster cluster = TestCluster.perClass(1);

    @Test
    void anOnlineDeviceYieldsAcceptedThenDeliveredThenAcked() throws Exception {
      Inbox inbox = new Inbox();
      cluster.connected(0, "rita", "phone", inbox);

      String id = send(cluster, "rita", "with receipts", true, 0).getMessageId();
      Inbox.Received received = inbox.take(1).get(0);
      List<DeliveryReceipt> receipts = awaitReceipts(cluster, id,
          seen -> states(seen).containsAll(List.of(State.DELIVERED, State.ACKED)));

      // DELIVERED is best effort (it repeats on a resend); ACCEPTED is committed first.
      assertThat(states(receipts)).startsWith(State.ACCEPTED).containsOnlyOnce(State.ACCEPTED,
          State.ACKED).containsOnly(State.ACCEPTED, State.DELIVERED, State.ACKED);
      assertThat(receipts).allSatisfy(r -> {
        assertThat(r.getUserId()).isEqualTo("rita");
        assertThat(r.getSeq()).isEqualTo(received.seq());
        assertThat(r.getSender()).isEqualTo("anyone"); // the Send API's name for any caller
        assertThat(r.getAtMs()).isPositive();
      });
      assertThat(receipts.get(0).getDeviceId()).isEmpty();
      assertThat(receipts).filteredOn(r -> r.getState() != State.ACCEPTED).allSatisfy(r ->
          assertThat(r.getDeviceId()).isEqualTo("phone"));
      assertThat(receipts).filteredOn(r -> r.getState() == State.DELIVERED).allSatisfy(r ->
          assertThat(r.getNodeId()).isEqualTo("edge-0"));
      assertThat(received.message().getReceipts()).as("for the producer, not the client")
          .isFalse();
      assertThat(received.message().getSender()).isEmpty();
    }

    @Test
    void aMessageWhoseTtlRunsOutYieldsAcceptedThenExpired() throws Exception {
      String id = send(cluster, "sami", "nobody listens", true, 300).getMessageId();

      List<DeliveryReceipt> receipts = awaitReceipts(cluster, id,
          seen -> states(seen).contains(State.EXPIRED));

      assertThat(receipts).extracting(DeliveryReceipt::getState, DeliveryReceipt::getSeq)
          .containsExactly(org.assertj.core.groups.Tuple.tuple(State.ACCEPTED, 1L),
              org.assertj.core.groups.Tuple.tuple(State.EXPIRED, 1L));
    }

    @Test
    void aMessageThatDoesNotAskGetsNone() throws Exception {
      Inbox inbox = new Inbox();
      cluster.connected(0, "tove", "phone", inbox);
      String silent = send(cluster, "tove", "no receipts", false, 0).getMessageId();
      String asked = send(cluster, "tove", "receipts", true, 0).getMessageId();
      inbox.take(2);

      awaitReceipts(cluster, asked, seen -> states(seen).contains(State.ACKED));

      // The two are acked together or in order; the silent one's receipts would be in by now.
      assertThat(allReceipts(cluster)).extracting(DeliveryReceipt::getMessageId)
          .doesNotContain(silent);
    }

    @Test
    void sendWaitDeliveredPrintsTheReceiptsAndExitsZeroOnceAcked() throws Exception {
      Inbox inbox = new Inbox();
      cluster.connected(0, "ulla", "phone", inbox);

      Cli run = cli(cluster, "send", "--to", "ulla", "--text", "wait for it", "--id", "w-1",
          "--wait-delivered=PT30S");

      assertThat(run.exit()).as(run.out()).isZero();
      assertThat(run.out()).contains("ulla: ACCEPTED seq 1", "ulla/phone: DELIVERED seq 1 on "
          + "edge-0", "ulla/phone: ACKED seq 1");
      assertThat(inbox.take(1)).extracting(Inbox.Received::text).containsExactly("wait for it");
    }

    @Test
    void sendWaitDeliveredExitsThreeWhenTheTtlRunsOutAndFourWhenItsOwnTimeDoes() {
      Cli expired = cli(cluster, "send", "--to", "vera", "--text", "too late", "--ttl", "PT0.3S",
          "--wait-delivered=PT30S");
      Cli waited = cli(cluster, "send", "--to", "vera", "--text", "still queued",
          "--wait-delivered=PT2S");

      assertThat(expired.exit()).as(expired.out()).isEqualTo(3);
      assertThat(expired.out()).contains("vera: ACCEPTED seq 1", "vera: EXPIRED seq 1");
      assertThat(waited.exit()).as(waited.out()).isEqualTo(4);
      assertThat(waited.out()).contains("vera: ACCEPTED seq 2");
    }
  }

  @Nested
  class ForEveryMessageOfASender {
    @RegisterExtension final TestCluster cluster = TestCluster.perClass(1,
        TestCluster.Options.defaults()
            .with(new ReceiptPolicy(ReceiptPolicy.Key.SENDER, List.of("anyone"))));

    @Test
    void aCoveredSenderGetsReceiptsKeyedByItsName() throws Exception {
      String id = send(cluster, "wanda", "receipts without asking", false, 0).getMessageId();

      List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
      awaitRecords(cluster, records, r -> parse(r).getMessageId().equals(id));

      assertThat(records).filteredOn(r -> parse(r).getMessageId().equals(id))
          .extracting(ConsumerRecord::key).containsExactly("anyone");
    }
  }

  private static io.homing.api.v1.SendResponse send(TestCluster cluster, String user,
      String text, boolean receipts, long ttlMs) {
    SendRequest.Builder request = SendRequest.newBuilder()
        .addUserIds(user)
        .setPayload(ByteString.copyFromUtf8(text))
        .setReceipts(receipts);
    if (ttlMs > 0) {
      request.setTtl(Durations.fromMillis(ttlMs));
    }
    return cluster.send().send(request.build());
  }

  /**
   * Reads the receipts of the message, in topic order, until those read so far satisfy
   * {@code done}; fails after 30 s.
   */
  private static List<DeliveryReceipt> awaitReceipts(TestCluster cluster, String messageId,
      Predicate<List<DeliveryReceipt>> done) {
    List<DeliveryReceipt> receipts = new ArrayList<>();
    awaitRecords(cluster, new ArrayList<>(), r -> {
      DeliveryReceipt receipt = parse(r);
      if (receipt.getMessageId().equals(messageId)) {
        receipts.add(receipt);
      }
      return done.test(receipts);
    });
    return receipts;
  }

  private static List<State> states(List<DeliveryReceipt> receipts) {
    return receipts.stream().map(DeliveryReceipt::getState).toList();
  }

  /** Every receipt committed so far. */
  private static List<DeliveryReceipt> allReceipts(TestCluster cluster) {
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    try (KafkaConsumer<String, byte[]> consumer = consumer(cluster)) {
      Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
      while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
        assertThat(System.nanoTime()).as("read to the end within 30 s").isLessThan(deadline);
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records.stream().map(ReceiptsIT::parse).toList();
  }

  /** Reads {@code delivery-receipts} from the start into {@code records} until one matches. */
  private static void awaitRecords(TestCluster cluster,
      List<ConsumerRecord<String, byte[]>> records,
      Predicate<ConsumerRecord<String, byte[]>> until) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    try (KafkaConsumer<String, byte[]> consumer = consumer(cluster)) {
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          records.add(record);
          if (until.test(record)) {
            return;
          }
        }
      }
    }
    throw new AssertionError("no such receipt within 30 s; read " + records.size());
  }

  private static KafkaConsumer<String, byte[]> consumer(TestCluster cluster) {
    return fromTheStart(cluster.kafkaConnection(), cluster.topics.deliveryReceipts());
  }

  /**
   * A read-committed consumer of every partition of {@code topic}, at its start, as a sender
   * reads its receipts; also for the chaos suite.
   */
  static KafkaConsumer<String, byte[]> fromTheStart(KafkaConnection kafka, String topic) {
    Map<String, Object> config = kafka.clientConfig();
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config,
        new StringDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
        .map(p -> new TopicPartition(topic, p.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    return consumer;
  }

  private static DeliveryReceipt parse(ConsumerRecord<String, byte[]> record) {
    try {
      return DeliveryReceipt.parseFrom(record.value());
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("not a DeliveryReceipt at " + record.offset(), e);
    }
  }

  /** A CLI run: its exit code and what it printed. */
  record Cli(int exit, String out) {}

  /** Runs {@code homing-cli} against the cluster's Send API and Kafka, capturing its output. */
  private static Cli cli(TestCluster cluster, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--server", "127.0.0.1:" + cluster.sendPort(),
        "--kafka", cluster.kafkaConnection().bootstrapServers(),
        "--topic-prefix", cluster.topics.prefix()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int exit = new CommandLine(HomingCli.class).execute(all.toArray(String[]::new));
      return new Cli(exit, out.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(original);
    }
  }
}
