package io.homing.notifier;

import com.google.protobuf.InvalidProtocolBufferException;
import io.homing.api.PushTargets;
import io.homing.api.Topics;
import io.homing.api.v1.DeliveryEvent;
import io.homing.api.v1.DeliveryReceipt;
import io.homing.api.v1.NotificationRequest;
import io.homing.api.v1.PushTarget;
import io.homing.notifier.push.PushContent;
import io.homing.notifier.push.PushProvider;
import io.homing.notifier.push.PushResult;
import io.homing.runtime.kafka.KafkaConnection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the notifications delivery-core asks for on {@code notifications}, each to its device's
 * push target through the {@link PushProvider} of its kind, on one loop thread.
 *
 * <ul>
 *   <li>Sent: a NOTIFICATION_SENT receipt for every covered message that asked for receipts.
 *   <li>Not now (a provider down, 429, 5xx): retried after a backoff — doubled per attempt, with
 *       jitter, or the provider's Retry-After — until the request is older than
 *       {@link NotifierPolicy#maxAge()}; then NOTIFICATION_FAILED. Other requests go on
 *       meanwhile.
 *   <li>The target is invalid (an unregistered token, a webhook gone): a PushTargetInvalid event
 *       on {@code delivery-events}, from which core removes the target; NOTIFICATION_FAILED.
 *   <li>Refused for another reason, or no provider configured for the kind: NOTIFICATION_FAILED.
 * </ul>
 *
 * <p>A request's offset is committed once it is finished and its receipts and events are in
 * Kafka, and every request before it in its partition is too: what was in flight when the
 * notifier died is sent again by the next one (at least once; the collapse id makes the device
 * show one). Reading pauses while {@link NotifierPolicy#maxInFlight()} requests are unfinished.
 * The notifier never touches messages themselves: when it is slow or down, only notifications
 * wait.
 */
public final class Notifier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Notifier.class);
  private static final Duration POLL = Duration.ofMillis(100);
  /** The longest one send may take before it counts as "not now". */
  static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(30);

  private final Topics topics;
  private final String instanceId;
  private final Map<PushTarget.KindCase, PushProvider> providers;
  private final NotifierPolicy policy;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final KafkaProducer<byte[], byte[]> producer;
  private final Thread thread;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final CompletableFuture<Throwable> failed = new CompletableFuture<>();
  private final ConcurrentLinkedQueue<Runnable> completions = new ConcurrentLinkedQueue<>();
  private final PriorityQueue<Job> retries =
      new PriorityQueue<>(Comparator.comparingLong(j -> j.retryAt));
  private final Map<TopicPartition, Pending> pending = new HashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final MeterRegistry meters;
  private final Counter retried;
  private volatile boolean running = true;

  /** One request being worked on: where it came from, and how often it was tried. */
  private static final class Job {
    final TopicPartition partition;
    final long offset;
    final Pending owner;
    final NotificationRequest request;
    final PushContent content;
    int attempts;
    long retryAt;

    Job(TopicPartition partition, long offset, Pending owner, NotificationRequest request,
        PushContent content) {
      this.partition = partition;
      this.offset = offset;
      this.owner = owner;
      this.request = request;
      this.content = content;
    }
  }

  /** A partition's unfinished offsets, and the next offset after the highest taken. */
  private static final class Pending {
    final TreeSet<Long> unfinished = new TreeSet<>();
    long next = -1;
    long committed = -1;

    long committable() {
      return unfinished.isEmpty() ? next : unfinished.first();
    }
  }

  public Notifier(KafkaConnection kafka, Topics topics, String groupId, String instanceId,
      Collection<PushProvider> providers, NotifierPolicy policy, MeterRegistry meters) {
    this.topics = topics;
    this.instanceId = instanceId;
    this.providers = new HashMap<>();
    providers.forEach(p -> this.providers.put(p.kind(), p));
    this.policy = policy;
    this.meters = meters;
    Map<String, Object> consumerConfig = kafka.clientConfig();
    consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    consumerConfig.put(ConsumerConfig.CLIENT_ID_CONFIG, instanceId);
    consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerConfig.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
    this.consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
    Map<String, Object> producerConfig = kafka.clientConfig();
    producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, instanceId + "-receipts");
    producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
    producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    this.producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(),
        new ByteArraySerializer());
    this.retried = Counter.builder("homing.notifier.retries")
        .description("Sends tried again after a provider said not now").register(meters);
    Gauge.builder("homing.notifier.in.flight", inFlight, AtomicInteger::get)
        .description("Notification requests taken from Kafka and not finished").register(meters);
    for (String result : List.of("sent", "invalid_target", "failed", "expired")) {
      for (var kind : this.providers.keySet()) {
        finished(kind, result); // every series in /metrics from the start, at 0
      }
    }
    this.thread = new Thread(this::run, instanceId);
  }

  public Notifier start() {
    thread.start();
    return this;
  }

  /** Completes with the error that stopped the loop; the process should exit and be restarted. */
  public CompletableFuture<Throwable> failed() {
    return failed;
  }

  /** Requests taken from Kafka and not finished. Any thread. */
  public int inFlight() {
    return inFlight.get();
  }

  private Counter finished(PushTarget.KindCase kind, String result) {
    return Counter.builder("homing.notifier.notifications")
        .description("Notification requests finished, by provider and result")
        .tag("provider", kind.name().toLowerCase(Locale.ROOT))
        .tag("result", result)
        .register(meters);
  }

  private void run() {
    try {
      consumer.subscribe(List.of(topics.notifications()), new Rebalance());
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
          take(record);
        }
        for (Runnable done; (done = completions.poll()) != null; ) {
          done.run();
        }
        retryDue();
        commit(false);
        throttle();
      }
    } catch (Throwable e) { // an Error too: the process must exit and be restarted
      log.error("notifier stopped", e);
      failed.complete(e);
    } finally {
      try {
        if (!failed.isDone()) {
          commit(true);
        }
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
      } catch (RuntimeException e) {
        log.warn("could not commit at close; the next notifier sends those again: {}",
            e.toString());
      } finally {
        stopped.countDown();
      }
    }
  }

  /** Starts working on a record: decodes it, drops it when too old, sends it. */
  private void take(ConsumerRecord<byte[], byte[]> record) {
    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
    Pending owner = pending.computeIfAbsent(tp, p -> new Pending());
    owner.next = record.offset() + 1;
    NotificationRequest request;
    try {
      request = NotificationRequest.parseFrom(record.value());
    } catch (InvalidProtocolBufferException | NullPointerException e) {
      log.warn("skipping {}-{}@{}: not a NotificationRequest", record.topic(), record.partition(),
          record.offset());
      return;
    }
    String invalid = PushTargets.invalid(request.getTarget());
    if (invalid != null) {
      log.warn("skipping {}-{}@{}: push target: {}", record.topic(), record.partition(),
          record.offset(), invalid);
      return;
    }
    owner.unfinished.add(record.offset());
    inFlight.incrementAndGet();
    Job job = new Job(tp, record.offset(), owner, request, Contents.of(request, policy));
    if (expired(job)) {
      finished(request.getTarget().getKindCase(), "expired").increment();
      finish(job, "expired: older than " + policy.maxAge() + " before it could be sent", null);
      return;
    }
    send(job);
  }

  private boolean expired(Job job) {
    return System.currentTimeMillis() >= deadline(job);
  }

  /** When the notifier stops trying: {@link NotifierPolicy#maxAge()} after core asked. */
  private long deadline(Job job) {
    return job.request.getCreatedAtMs() + policy.maxAge().toMillis();
  }

  private void send(Job job) {
    job.attempts++;
    PushProvider provider = providers.get(job.request.getTarget().getKindCase());
    if (provider == null) {
      finish(job, PushTargets.describe(job.request.getTarget())
          + ": no provider configured on this notifier", null);
      finished(job.request.getTarget().getKindCase(), "failed").increment();
      return;
    }
    CompletableFuture<PushResult> sent;
    try {
      // A provider that never answers (a webhook that sends headers, then stalls) must not hold
      // the request, and its partition's commits, forever.
      sent = provider.send(job.request.getTarget(), job.content).completeOnTimeout(
          PushResult.retry(PushTargets.describe(job.request.getTarget()) + ": no answer within "
              + ATTEMPT_TIMEOUT.toSeconds() + " s", null),
          ATTEMPT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      sent = CompletableFuture.completedFuture(PushResult.failed(e.toString()));
    }
    sent.whenComplete((result, error) -> completions.add(() -> answered(job,
        error != null ? PushResult.retry(error.toString(), null) : result)));
  }

  /** What to do with a provider's answer. Loop thread. */
  private void answered(Job job, PushResult result) {
    if (job.owner != pending.get(job.partition)) {
      inFlight.decrementAndGet();
      return; // the partition was revoked meanwhile: its next owner sends it again
    }
    var kind = job.request.getTarget().getKindCase();
    switch (result.status()) {
      case SENT -> {
        finished(kind, "sent").increment();
        finish(job, null, result.detail());
      }
      case INVALID_TARGET -> {
        finished(kind, "invalid_target").increment();
        log.info("push target of {}/{} is no longer valid ({}): removing it",
            job.request.getUserId(), job.request.getDeviceId(), result.detail());
        DeliveryEvent invalid = DeliveryEvent.newBuilder()
            .setUserId(job.request.getUserId())
            .setDeviceId(job.request.getDeviceId())
            .setNodeId(instanceId)
            .setAtMs(System.currentTimeMillis())
            .setPushTargetInvalid(DeliveryEvent.PushTargetInvalid.newBuilder()
                .setTarget(job.request.getTarget())
                .setInvalidSinceMs(result.invalidSinceMs() > 0 ? result.invalidSinceMs()
                    : System.currentTimeMillis())
                .setReason(result.detail())
                .setTargetSetAtMs(job.request.getTargetSetAtMs()))
            .build();
        finish(job, result.detail(), null, new ProducerRecord<>(topics.deliveryEvents(),
            utf8(job.request.getUserId()), invalid.toByteArray()));
      }
      case FAILED -> {
        finished(kind, "failed").increment();
        log.warn("notification for {}/{} refused: {}", job.request.getUserId(),
            job.request.getDeviceId(), result.detail());
        finish(job, result.detail(), null);
      }
      case RETRY -> {
        long wait = backoff(job.attempts, result.retryAfter());
        if (System.currentTimeMillis() + wait >= deadline(job)) {
          finished(kind, "failed").increment();
          finish(job, "gave up after " + job.attempts + " attempts: " + result.detail(), null);
          return;
        }
        retried.increment();
        log.debug("notification for {}/{} not sent ({}): retrying in {} ms",
            job.request.getUserId(), job.request.getDeviceId(), result.detail(), wait);
        job.retryAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait);
        retries.add(job);
      }
    }
  }

  /** The wait before the next attempt: the provider's word, or the backoff with jitter. */
  private long backoff(int attempts, Duration retryAfter) {
    long max = policy.maxBackoff().toMillis();
    if (retryAfter != null) {
      return Math.max(policy.minBackoff().toMillis(), Math.min(retryAfter.toMillis(), max));
    }
    long base = policy.minBackoff().toMillis() << Math.min(attempts - 1, 20);
    long capped = Math.min(base, max);
    return capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
  }

  private void retryDue() {
    long now = System.nanoTime();
    while (!retries.isEmpty() && retries.peek().retryAt <= now) {
      Job job = retries.poll();
      if (job.owner == pending.get(job.partition)) {
        send(job);
      } else {
        inFlight.decrementAndGet();
      }
    }
  }

  private void finish(Job job, String failure, String sentDetail) {
    finish(job, failure, sentDetail, null);
  }

  /**
   * Publishes the job's receipts ({@code failure} null: NOTIFICATION_SENT, else FAILED with it)
   * and {@code event} (if not null), then marks it finished once Kafka has them all.
   */
  private void finish(Job job, String failure, String sentDetail,
      ProducerRecord<byte[], byte[]> event) {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    if (event != null) {
      records.add(event);
    }
    long now = System.currentTimeMillis();
    for (NotificationRequest.Receipted r : job.request.getReceiptsList()) {
      DeliveryReceipt receipt = DeliveryReceipt.newBuilder()
          .setMessageId(r.getMessageId())
          .setUserId(job.request.getUserId())
          .setDeviceId(job.request.getDeviceId())
          .setSeq(r.getSeq())
          .setState(failure == null ? DeliveryReceipt.State.NOTIFICATION_SENT
              : DeliveryReceipt.State.NOTIFICATION_FAILED)
          .setAtMs(now)
          .setSender(r.getSender())
          .setDetail(failure == null ? sentDetail : failure)
          .build();
      records.add(new ProducerRecord<>(topics.deliveryReceipts(), utf8(r.getKey()),
          receipt.toByteArray()));
    }
    if (records.isEmpty()) {
      done(job);
      return;
    }
    AtomicInteger left = new AtomicInteger(records.size());
    for (ProducerRecord<byte[], byte[]> record : records) {
      try {
        producer.send(record, (metadata, error) -> {
          if (error != null) {
            completions.add(() -> {
              throw new KafkaException("cannot publish to " + record.topic(), error);
            });
          } else if (left.decrementAndGet() == 0) {
            completions.add(() -> done(job));
          }
        });
      } catch (KafkaException e) {
        throw new KafkaException("cannot publish to " + record.topic(), e);
      }
    }
  }

  /** The job is finished: its offset may be committed once those before it are. Loop thread. */
  private void done(Job job) {
    inFlight.decrementAndGet();
    if (job.owner == pending.get(job.partition)) {
      job.owner.unfinished.remove(job.offset);
    }
  }

  /** Commits each partition up to its first unfinished request. */
  private void commit(boolean sync) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    pending.forEach((tp, p) -> {
      long committable = p.committable();
      if (committable > p.committed) {
        offsets.put(tp, new OffsetAndMetadata(committable));
        p.committed = committable;
      }
    });
    if (offsets.isEmpty()) {
      return;
    }
    if (sync) {
      consumer.commitSync(offsets);
    } else {
      consumer.commitAsync(offsets, (committed, error) -> {
        if (error != null) { // called on this thread, in a poll: the next turn commits again
          log.warn("offset commit failed, trying again: {}", error.toString());
          offsets.forEach((tp, offset) -> {
            Pending p = pending.get(tp);
            if (p != null && p.committed == offset.offset()) {
              p.committed = -1;
            }
          });
        }
      });
    }
  }

  /** Pauses reading while too many requests are unfinished; resumes below. */
  private void throttle() {
    if (inFlight.get() >= policy.maxInFlight()) {
      consumer.pause(consumer.assignment()); // also partitions assigned since the last pause
    } else if (!consumer.paused().isEmpty()) {
      consumer.resume(consumer.paused());
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Commits what is finished before partitions go, and forgets them: requests of theirs still in
   * flight are sent again by the next owner.
   */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        try {
          commit(true);
        } catch (KafkaException e) {
          log.warn("could not commit before a rebalance: {}", e.toString());
        }
      }
      partitions.forEach(pending::remove);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      log.info("assigned {}", partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      partitions.forEach(pending::remove);
    }
  }

  /** Stops the loop, commits what is finished, closes Kafka clients and the providers. */
  @Override
  public void close() {
    running = false; // the loop sees it within a poll (100 ms), then commits what is finished
    if (thread.isAlive()) {
      try {
        if (!stopped.await(15, TimeUnit.SECONDS)) {
          log.warn("notifier did not stop within 15 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else if (stopped.getCount() > 0) {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
    producer.close(Duration.ofSeconds(5));
    providers.values().forEach(PushProvider::close);
  }
}
