package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.Topics;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.Message;
import io.homing.api.v1.OutboundMessage;
import io.homing.client.HomingClient;
import io.homing.client.Tokens;
import io.homing.runtime.kafka.KafkaConnection;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Kills things under a steady load and checks what the applications saw: every message once, in
 * order, none missing — and how long delivery took to catch up after the fault. Real processes
 * (two cores and two edges from their jars, SIGKILLed or stopped with SIGTERM as a rolling update
 * does), a broker and a Redis of the cluster's own;
 * users are {@link HomingClient}s that reconnect by themselves. Every message asks for delivery
 * receipts, and each must be ACCEPTED and ACKED exactly once in {@code delivery-receipts}.
 *
 * <p>Short by default (CI). The long form, a few thousand users for minutes:
 * {@code mvn -B verify -pl integration-tests -am -Dtest=ChaosIT -Dsurefire.failIfNoSpecifiedTests=false
 * -Dchaos.users=3000 -Dchaos.rate=1500 -Dchaos.seconds=60}. Each run appends its figures to
 * {@code integration-tests/target/chaos-report.md}.
 */
class ChaosIT {
  private static final int USERS = Integer.getInteger("chaos.users", 200);
  private static final int RATE = Integer.getInteger("chaos.rate", 200);
  private static final Duration PHASE = Duration.ofSeconds(Long.getLong("chaos.seconds", 6));
  private static final Duration DRAIN = Duration.ofSeconds(90);

  private ProcessCluster cluster;
  private EventLoopGroup group;
  private final List<HomingClient> clients = new ArrayList<>();

  @AfterEach
  void tearDown() {
    clients.forEach(HomingClient::close);
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void killAnEdge() throws Exception {
    run("SIGKILL an edge; its clients move to the other", c -> {
      c.killEdge(0);
      c.startEdge(0);
    });
  }

  @Test
  void killACoreThatRestarts() throws Exception {
    run("SIGKILL a core; it restarts on its disk", c -> {
      c.killCore(0);
      c.startCore(0);
    });
  }

  @Test
  void killACoreTheOtherTakesOver() throws Exception {
    run("SIGKILL a core for good; the other takes its partitions over", c -> c.killCore(1));
  }

  /**
   * Delivery runs ahead of the changelog by up to a commit interval, here 3 s: the core dies with
   * deliveries its state never made durable, and whoever applies its partitions next must give
   * every seq already delivered to the same message again.
   */
  @Test
  void killACoreWhileItsDeliveriesAreAheadOfItsLastCommit() throws Exception {
    run("SIGKILL a core ahead of its last commit; it restarts",
        new String[] {"--commit-interval", "PT3S", "--pipeline-threads", "2"}, c -> {
          double uncommitted = awaitUncommitted(c, 0);
          c.killCore(0);
          System.out.printf("chaos: killed core-0 with %.0f changes not committed%n", uncommitted);
          c.startCore(0);
        });
  }

  @Test
  void aThirdCoreJoinsAndLeaves() throws Exception {
    run("a third core joins, then leaves (SIGTERM): partitions move twice", c -> {
          c.startCore(2);
          long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
          while (!(c.coreMetric(2, "homing_partitions_owned") > 0)
              && System.nanoTime() < deadline) {
            Thread.sleep(100);
          }
          assertThat(c.coreMetric(2, "homing_partitions_owned")).as("core-2's partitions")
              .isPositive();
          Thread.sleep(PHASE.toMillis() / 2);
          c.stopCore(2);
        });
  }

  /**
   * A rolling update of the edges, as Kubernetes runs one: each edge in turn gets SIGTERM (it
   * tells its clients SHUTTING_DOWN and they reconnect to the other), exits, and starts again on
   * the same ports; the next goes once it answers /health.
   */
  @Test
  void rollingRestartOfTheEdges() throws Exception {
    Scenario scenario = run("rolling restart of the edges (SIGTERM each in turn)", new String[0],
        true, c -> {
          for (int i = 0; i < 2; i++) {
            c.stopEdge(i);
            c.startEdge(i);
            c.awaitEdgeHealthy(i);
          }
        });
    // A graceful stop: every client that lost its edge was told why, none saw the socket just die.
    assertThat(scenario.disconnections().reasons().keySet()).as("why connections ended")
        .isNotEmpty().allSatisfy(reason -> assertThat(reason).startsWith("SHUTTING_DOWN"));
  }

  /**
   * A rolling update of the cores: each in turn gets SIGTERM (it commits, leaves the group, the
   * other takes its partitions), exits, and starts again on its data folder; the next goes once it
   * answers /health and owns partitions again.
   */
  @Test
  void rollingRestartOfTheCores() throws Exception {
    run("rolling restart of the cores (SIGTERM each in turn)", new String[0], true, c -> {
      for (int i = 0; i < 2; i++) {
        c.stopCore(i);
        c.startCore(i);
        c.awaitCoreHealthy(i);
        awaitPartitions(c, i);
      }
    });
  }

  private static void awaitPartitions(ProcessCluster c, int core) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(c.coreMetric(core, "homing_partitions_owned") > 0)
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(c.coreMetric(core, "homing_partitions_owned")).as("core-%d's partitions", core)
        .isPositive();
  }

  /** Waits until the core delivered from changes it did not commit yet; returns how many. */
  private static double awaitUncommitted(ProcessCluster c, int core) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    double uncommitted = c.coreMetric(core, "homing_changes_uncommitted");
    while (!(uncommitted > 0) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      uncommitted = c.coreMetric(core, "homing_changes_uncommitted");
    }
    assertThat(uncommitted).as("changes core-%d applied and did not commit", core).isPositive();
    return uncommitted;
  }

  @Test
  void restartRedisEmpty() throws Exception {
    run("restart Redis empty", c -> c.redis.restart());
  }

  @Test
  void restartTheKafkaBroker() throws Exception {
    run("restart the Kafka broker", c -> c.kafka.restart());
  }

  private interface Fault {
    void inject(ProcessCluster cluster) throws Exception;
  }

  /** What a scenario measured, for checks of its own. */
  private record Scenario(Tally.Result result, Disconnections.Result disconnections) {}

  private void run(String scenario, Fault fault) throws Exception {
    run(scenario, new String[0], false, fault);
  }

  private void run(String scenario, String[] coreOptions, Fault fault) throws Exception {
    run(scenario, coreOptions, false, fault);
  }

  /**
   * Runs the load through {@code fault} and checks what the applications saw; {@code rolling}
   * puts the figures in the report's table of rolling restarts, with the time clients spent
   * disconnected.
   */
  private Scenario run(String scenario, String[] coreOptions, boolean rolling, Fault fault)
      throws Exception {
    cluster = new ProcessCluster(coreOptions);
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    Tally tally = new Tally(USERS);
    Disconnections disconnections = new Disconnections(clients);
    for (int u = 0; u < USERS; u++) {
      String user = "user-" + u;
      int index = u;
      clients.add(HomingClient.builder(List.of(cluster.wsUri(u % 2), cluster.wsUri(1 - u % 2)),
              () -> Tokens.mint(ProcessCluster.SECRET, user, "phone", Duration.ofHours(1)))
          .listener((seq, message) -> tally.received(message.getPayload()))
          .pushObserver((seq, message) -> tally.pushed(seq, message.getPayload()))
          .onDisconnect(reason -> disconnections.lost(index, reason))
          .backoff(Duration.ofMillis(100), Duration.ofSeconds(2))
          .eventLoopGroup(group)
          .start());
    }
    awaitAllConnected();

    try (Publisher publisher = new Publisher(cluster, tally);
        Disconnections clock = disconnections.start()) {
      publisher.start();
      Thread.sleep(PHASE.toMillis() / 2);
      long faultNanos = System.nanoTime();
      CompletableFuture<Long> recovered = CompletableFuture.supplyAsync(() -> {
        try {
          // everything published in the first second of the fault: when has it all arrived?
          Thread.sleep(1000);
          return awaitReceived(tally, tally.sentSnapshot(), Duration.ofSeconds(120));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return System.nanoTime();
        }
      });
      fault.inject(cluster);
      long injectedMillis = (System.nanoTime() - faultNanos) / 1_000_000;
      long recoveredNanos = recovered.get(150, TimeUnit.SECONDS);
      Thread.sleep(PHASE.toMillis());
      publisher.stop();
      awaitReceived(tally, tally.sentSnapshot(), DRAIN);
      cluster.assertRunning();
      Tally.Result result = tally.result();
      Disconnections.Result offline = clock.result();
      double recovery = (recoveredNanos - faultNanos) / 1e9;
      report(scenario, rolling, result, offline, injectedMillis, recovery,
          publisher.failures.get());

      assertThat(publisher.failures.get()).as("publish failures").isZero();
      assertThat(result.lost()).as("lost").isZero();
      assertThat(result.duplicated()).as("duplicated").isZero();
      assertThat(result.outOfOrder()).as("out of order").isZero();
      assertThat(result.seqConflicts()).as("seq conflicts").isZero();
      assertThat(result.received()).isEqualTo(result.sent()).isPositive();
      assertEveryReceiptOnce(cluster, result.sent());
      return new Scenario(result, offline);
    }
  }

  /**
   * Every message asked for receipts: through the fault, each was ACCEPTED once and ACKED once by
   * its user's one device, as a read-committed consumer of delivery-receipts sees them.
   */
  private static void assertEveryReceiptOnce(ProcessCluster c, long sent) {
    Map<String, Integer> accepted = new HashMap<>();
    Map<String, Integer> acked = new HashMap<>();
    String topic = new Topics(c.topicPrefix()).deliveryReceipts();
    try (KafkaConsumer<String, byte[]> consumer = ReceiptsIT.fromTheStart(
        KafkaConnection.plaintext(c.kafka.bootstrapServers()), topic)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      Map<TopicPartition, Long> end = Map.of();
      // Until every message was acked (the last acks commit behind), then on to the end.
      while (System.nanoTime() < deadline && (acked.size() < sent || end.entrySet().stream()
          .anyMatch(e -> consumer.position(e.getKey()) < e.getValue()))) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          DeliveryReceipt receipt = DeliveryReceipt.parseFrom(record.value());
          switch (receipt.getState()) {
            case ACCEPTED -> accepted.merge(receipt.getMessageId(), 1, Integer::sum);
            case ACKED -> acked.merge(receipt.getMessageId(), 1, Integer::sum);
            default -> { }
          }
        }
        if (acked.size() >= sent && end.isEmpty()) {
          end = consumer.endOffsets(consumer.assignment());
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("not a DeliveryReceipt in " + topic, e);
    }
    assertThat(accepted).as("messages ACCEPTED").hasSize((int) sent);
    assertThat(acked).as("messages ACKED").hasSize((int) sent);
    assertThat(accepted.values()).as("ACCEPTED per message").containsOnly(1);
    assertThat(acked.values()).as("ACKED per message (one device each)").containsOnly(1);
  }

  private void awaitAllConnected() throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (clients.stream().anyMatch(c -> c.sessions() == 0) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(clients).allSatisfy(c -> assertThat(c.sessions()).isPositive());
  }

  /**
   * Waits until every user received at least what {@code sent} says; returns when that was, or
   * the deadline.
   */
  private static long awaitReceived(Tally tally, long[] sent, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!tally.caughtUp(sent) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return System.nanoTime();
  }

  /**
   * What was published per user, what the applications received, and which message every push of
   * a seq carried (a seq pushed again with another message is a seq conflict: a seq reassigned
   * after a failover). Thread-safe.
   */
  static final class Tally {
    record Result(long sent, long received, long lost, long duplicated, long outOfOrder,
        long seqConflicts) {}

    private final AtomicLongArray acked;
    private final long[] highest;
    private final long[] distinct;
    private final long[] duplicated;
    private final long[] outOfOrder;
    /** Per user, the counter each seq was pushed with. */
    private final List<Map<Long, Long>> counterBySeq = new ArrayList<>();
    private long seqConflicts;

    Tally(int users) {
      acked = new AtomicLongArray(users);
      highest = new long[users];
      distinct = new long[users];
      duplicated = new long[users];
      outOfOrder = new long[users];
      for (int u = 0; u < users; u++) {
        counterBySeq.add(new HashMap<>());
      }
    }

    /** A push of {@code seq} arrived, a resend or not, with payload "user:counter". */
    synchronized void pushed(long seq, ByteString payload) {
      String[] parts = payload.toString(StandardCharsets.UTF_8).split(":");
      Long before = counterBySeq.get(Integer.parseInt(parts[0]))
          .putIfAbsent(seq, Long.parseLong(parts[1]));
      if (before != null && before != Long.parseLong(parts[1])) {
        seqConflicts++;
      }
    }

    void published(int user) {
      acked.incrementAndGet(user);
    }

    /** A payload "user:counter" reached the application. */
    synchronized void received(ByteString payload) {
      String[] parts = payload.toString(StandardCharsets.UTF_8).split(":");
      int user = Integer.parseInt(parts[0]);
      long counter = Long.parseLong(parts[1]);
      if (counter <= highest[user]) {
        duplicated[user]++;
      } else {
        if (counter != highest[user] + 1) {
          outOfOrder[user]++;
        }
        highest[user] = counter;
        distinct[user]++;
      }
    }

    long[] sentSnapshot() {
      long[] snapshot = new long[acked.length()];
      for (int u = 0; u < snapshot.length; u++) {
        snapshot[u] = acked.get(u);
      }
      return snapshot;
    }

    synchronized boolean caughtUp(long[] sent) {
      for (int u = 0; u < sent.length; u++) {
        if (highest[u] < sent[u]) {
          return false;
        }
      }
      return true;
    }

    synchronized Result result() {
      long sent = 0;
      long received = 0;
      long lost = 0;
      long dup = 0;
      long ooo = 0;
      for (int u = 0; u < highest.length; u++) {
        sent += acked.get(u);
        received += distinct[u];
        lost += Math.max(0, acked.get(u) - distinct[u]);
        dup += duplicated[u];
        ooo += outOfOrder[u];
      }
      return new Result(sent, received, lost, dup, ooo, seqConflicts);
    }
  }

  /** Publishes to outbound at a steady rate, round robin over the users, like a producer app. */
  static final class Publisher implements AutoCloseable {
    final AtomicLong failures = new AtomicLong();
    private final KafkaProducer<String, byte[]> producer;
    private final String topic;
    private final Tally tally;
    private final long[] counters = new long[USERS];
    private final Thread thread = new Thread(this::run, "chaos-publisher");
    private volatile boolean running = true;

    Publisher(ProcessCluster cluster, Tally tally) {
      this.producer = new KafkaProducer<>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.kafka.bootstrapServers(),
          ProducerConfig.ACKS_CONFIG, "all",
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
          ProducerConfig.LINGER_MS_CONFIG, 5,
          ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000),
          new StringSerializer(), new ByteArraySerializer());
      this.topic = new Topics(cluster.topicPrefix()).outbound();
      this.tally = tally;
    }

    void start() {
      thread.start();
    }

    void stop() throws InterruptedException {
      running = false;
      thread.join();
      producer.flush();
    }

    private void run() {
      long intervalNanos = 1_000_000_000L / RATE;
      long next = System.nanoTime();
      int user = 0;
      while (running) {
        long counter = ++counters[user];
        int u = user;
        String id = "user-" + u;
        byte[] value = OutboundMessage.newBuilder()
            .setUserId(id)
            .setMessage(Message.newBuilder()
                .setMessageId(UUID.randomUUID().toString())
                .setPayload(ByteString.copyFromUtf8(u + ":" + counter))
                .setReceipts(true))
            .build()
            .toByteArray();
        producer.send(new ProducerRecord<>(topic, id, value), (metadata, error) -> {
          if (error == null) {
            tally.published(u);
          } else {
            failures.incrementAndGet();
          }
        });
        user = (user + 1) % USERS;
        next += intervalNanos;
        long wait = next - System.nanoTime();
        if (wait > 0) {
          try {
            TimeUnit.NANOSECONDS.sleep(wait);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }

    @Override
    public void close() {
      running = false;
      producer.close(Duration.ofSeconds(10));
    }
  }

  /**
   * How long each client spent disconnected: from a connection ending (onDisconnect) until the
   * client authenticated again, read off {@link HomingClient#sessions()} every {@value
   * #POLL_MILLIS} ms, so each outage is measured to within that. Counts from {@link #start()} on.
   */
  static final class Disconnections implements AutoCloseable {
    static final long POLL_MILLIS = 5;

    /**
     * @param clients how many clients lost a connection at least once
     * @param outages how many times a client went from authenticated to disconnected
     * @param sumSeconds the time spent disconnected, added over the clients
     * @param maxSeconds the longest a client spent disconnected in all
     * @param p99Seconds the 99th percentile over all clients, those never disconnected included
     * @param stillDisconnected clients disconnected when the figures were taken (counted to then)
     * @param reasons why the connections ended: how often, and the outages that followed, one by
     *     one (those that ended)
     */
    record Result(int clients, long outages, double sumSeconds, double maxSeconds,
        double p99Seconds, int stillDisconnected, Map<String, Outages> reasons) {}

    /** Outages after connections that ended for one reason. */
    record Outages(long count, double medianSeconds, double longestSeconds) {
      @Override
      public String toString() {
        return String.format(Locale.ROOT, "%d, median %.2f s, longest %.2f s", count,
            medianSeconds, longestSeconds);
      }
    }

    private final List<HomingClient> clients;
    private final Thread poller = new Thread(this::poll, "chaos-disconnections");
    private volatile boolean armed;
    private long[] since;
    private long[] sessionsAt;
    private long[] totalNanos;
    private String[] reason;
    private long outages;
    private final Map<String, Long> reasons = new TreeMap<>();
    private final Map<String, List<Long>> outageNanos = new HashMap<>();

    /** @param clients the clients by user index, filled before {@link #start()} */
    Disconnections(List<HomingClient> clients) {
      this.clients = clients;
    }

    synchronized Disconnections start() {
      since = new long[clients.size()];
      sessionsAt = new long[clients.size()];
      totalNanos = new long[clients.size()];
      reason = new String[clients.size()];
      armed = true;
      poller.setDaemon(true);
      poller.start();
      return this;
    }

    /** Client {@code u}'s connection ended; on its event loop, before it reconnects. */
    void lost(int u, String why) {
      if (!armed) {
        return;
      }
      long now = System.nanoTime();
      long sessions = clients.get(u).sessions();
      synchronized (this) {
        if (since[u] == 0) { // not a failed attempt of an outage already running
          since[u] = now;
          sessionsAt[u] = sessions;
          reason[u] = why;
          outages++;
          reasons.merge(why, 1L, Long::sum);
        }
      }
    }

    private void poll() {
      while (armed) {
        synchronized (this) {
          long now = System.nanoTime();
          for (int u = 0; u < since.length; u++) {
            if (since[u] != 0 && clients.get(u).sessions() > sessionsAt[u]) {
              long outage = now - since[u];
              totalNanos[u] += outage;
              outageNanos.computeIfAbsent(reason[u], r -> new ArrayList<>()).add(outage);
              since[u] = 0;
            }
          }
        }
        try {
          Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    synchronized Result result() {
      long now = System.nanoTime();
      long[] totals = totalNanos.clone();
      int open = 0;
      for (int u = 0; u < since.length; u++) {
        if (since[u] != 0) {
          totals[u] += now - since[u];
          open++;
        }
      }
      int disconnected = (int) Arrays.stream(totals).filter(t -> t > 0).count();
      long[] sorted = totals.clone();
      Arrays.sort(sorted);
      long p99 = sorted[Math.max(0, (int) Math.ceil(sorted.length * 0.99) - 1)];
      Map<String, Outages> why = new TreeMap<>();
      reasons.forEach((r, count) -> {
        long[] each = outageNanos.getOrDefault(r, List.of()).stream().mapToLong(Long::longValue)
            .sorted().toArray();
        why.put(r, new Outages(count, each.length == 0 ? 0 : each[each.length / 2] / 1e9,
            each.length == 0 ? 0 : each[each.length - 1] / 1e9));
      });
      return new Result(disconnected, outages, Arrays.stream(totals).sum() / 1e9,
          sorted[sorted.length - 1] / 1e9, p99 / 1e9, open, why);
    }

    @Override
    public void close() {
      armed = false;
      poller.interrupt();
      try {
        poller.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static final String FAULTS_HEADER = "| scenario | users | rate | sent | received | lost "
      + "| duplicated | out of order | seq conflicts | publish failures | caught up after |\n"
      + "|---|---|---|---|---|---|---|---|---|---|---|\n";
  private static final String ROLLING_HEADER = "| scenario | users | rate | sent | received "
      + "| lost | duplicated | out of order | seq conflicts | publish failures | caught up after "
      + "| clients disconnected | disconnections | disconnected: sum | max per client "
      + "| p99 per client |\n"
      + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";

  /**
   * Adds the scenario's row to its table — faults, or rolling restarts with the time clients spent
   * disconnected — and writes both tables to {@code target/chaos-report.md}.
   */
  private static void report(String scenario, boolean rolling, Tally.Result r,
      Disconnections.Result d, long injectedMillis, double recoverySeconds, long publishFailures)
      throws IOException {
    String line = String.format(Locale.ROOT,
        "| %s | %d | %d/s | %d | %d | %d | %d | %d | %d | %d | %.2f s |",
        scenario, USERS, RATE, r.sent(), r.received(), r.lost(), r.duplicated(), r.outOfOrder(),
        r.seqConflicts(), publishFailures, recoverySeconds);
    String disconnected = String.format(Locale.ROOT, " %d | %d | %.2f s | %.2f s | %.2f s |",
        d.clients(), d.outages(), d.sumSeconds(), d.maxSeconds(), d.p99Seconds());
    if (rolling) {
      line += disconnected;
    }
    System.out.printf("chaos: %s (injecting took %d ms; disconnected:%s %d still; outages by "
            + "why the connection ended: %s)%n", line, injectedMillis, disconnected,
        d.stillDisconnected(), d.reasons());
    Path rows = Path.of("target", rolling ? "chaos-report-rolling.rows" : "chaos-report.rows");
    Files.writeString(rows, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    Path faults = Path.of("target", "chaos-report.rows");
    Path rollingRows = Path.of("target", "chaos-report-rolling.rows");
    StringBuilder report = new StringBuilder();
    if (Files.exists(faults)) {
      report.append(FAULTS_HEADER).append(Files.readString(faults));
    }
    if (Files.exists(rollingRows)) {
      report.append(report.isEmpty() ? "" : "\n")
          .append("Rolling restarts; disconnected: from a connection's end until the client "
              + "authenticated again, added up per client.\n\n")
          .append(ROLLING_HEADER).append(Files.readString(rollingRows));
    }
    Files.writeString(Path.of("target", "chaos-report.md"), report, StandardCharsets.UTF_8);
  }
}
