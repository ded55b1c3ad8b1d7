package io.homing.loadtest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code java -jar homing-loadtest.jar SCENARIO}: see BENCHMARKS.md. */
@Command(
    name = "homing-loadtest",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description = "Benchmarks a running Homing deployment (by default deploy/local's).",
    subcommands = {
      LoadTestMain.Connections.class,
      LoadTestMain.Throughput.class,
      LoadTestMain.Latency.class,
      LoadTestMain.Backlog.class,
      LoadTestMain.KafkaBaseline.class,
      LoadTestMain.Suite.class
    })
public final class LoadTestMain {
  private LoadTestMain() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs one scenario; returns its exit code. */
  public static int run(String... args) {
    System.setProperty("java.awt.headless", "true");
    return new CommandLine(new LoadTestMain()).execute(args);
  }

  /** Writes the reports and prints their Markdown. */
  static int publish(Target target, Report... reports) {
    for (Report report : reports) {
      Path json = report.write(target.out);
      System.out.println(report.markdown());
      System.out.println("report: " + json);
    }
    return 0;
  }

  @Command(name = "connections", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Ramp to N idle authenticated connections on the first edge; its memory per "
          + "connection.")
  static final class Connections implements Callable<Integer> {
    @Mixin Target target;

    @Option(names = "--count", defaultValue = "10000",
        description = "Idle connections to open, each its own user.")
    int count;

    @Option(names = "--hold-seconds", defaultValue = "5",
        description = "Hold them open this long before measuring the edge.")
    int hold;

    @Option(names = "--edge-pid", defaultValue = "0", paramLabel = "<pid>",
        description = "The edge's process id; 0: whoever listens on the first --ws port.")
    long edgePid;

    @Override
    public Integer call() throws Exception {
      return publish(target,
          new Bench(target).connections(count, Duration.ofSeconds(hold), edgePid));
    }
  }

  /** Homing's processes whose CPU time is counted per delivered message. */
  static final class HomingPids {
    @Option(names = "--core-pid", defaultValue = "0", paramLabel = "<pid>",
        description = "delivery-core's pid, for CPU per message; 0: whoever listens on the "
            + "--send-api port.")
    long core;

    @Option(names = "--edge-pids", split = ",", paramLabel = "<pid>",
        description = "The edges' pids, comma-separated, for CPU per message; default: whoever "
            + "listens on each --ws port.")
    List<Long> edges;

    CpuMeter meter(Target target, BrokerPid broker) throws InterruptedException {
      return CpuMeter.of(target, core, edges == null ? List.of() : edges, broker.pid);
    }
  }

  /** The Kafka broker, whose CPU time per delivered message is reported for context. */
  static final class BrokerPid {
    @Option(names = "--broker-pid", defaultValue = "0", paramLabel = "<pid>",
        description = "The Kafka broker's pid, for CPU per message; 0: whoever listens on the "
            + "first --kafka port.")
    long pid;
  }

  /** Options of the rate-stepping scenarios. */
  static final class Stepping {
    @Spec(Spec.Target.MIXEE) CommandSpec spec;

    @Option(names = "--users", defaultValue = "10000",
        description = "Connected users, one device each; messages go to them in turn.")
    int users;

    @Option(names = "--start-rate", defaultValue = "2000",
        description = "Messages per second of the first measured step.")
    double startRate;

    @Option(names = "--factor", defaultValue = "1.5",
        description = "Each step's rate is the previous one's times this (> 1).")
    double factor;

    @Option(names = "--max-rate", defaultValue = "200000",
        description = "No step above this rate (msg/s).")
    double maxRate;

    @Option(names = "--max-p99-ms", defaultValue = "100",
        description = "A step passes while its p99 stays at or under this (and delivery keeps up).")
    double maxP99Millis;

    @Option(names = "--step-seconds", defaultValue = "10",
        description = "How long each step publishes.")
    int stepSeconds;

    @Option(names = "--warmup-seconds", defaultValue = "60",
        description = "Publish this long first, unmeasured (JIT warm-up): a third at a quarter of "
            + "the start rate, then the start rate.")
    int warmup;

    @Option(names = "--retry-pause-seconds", defaultValue = "5",
        description = "A failed step is retried once, after delivery drained and this pause.")
    int retryPause;

    StepPlan plan() {
      try {
        return new StepPlan(startRate, factor, maxRate, maxP99Millis,
            Duration.ofSeconds(stepSeconds), Duration.ofSeconds(warmup),
            Duration.ofSeconds(retryPause));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
    }
  }

  @Command(name = "throughput", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Step the publish rate up: the highest rate with p99 within --max-p99-ms, "
          + "and the highest rate delivery keeps up with. A failed step is retried once.")
  static final class Throughput implements Callable<Integer> {
    @Mixin Target target;
    @Mixin Stepping s;
    @Mixin HomingPids pids;
    @Mixin BrokerPid broker;

    @Override
    public Integer call() throws Exception {
      return publish(target, new Bench(target).throughput("throughput", false, s.users,
          s.plan(), pids.meter(target, broker)));
    }
  }

  /** Options of the fixed-rate scenarios. */
  static final class FixedRate {
    @Option(names = "--users", defaultValue = "10000",
        description = "Connected users, one device each; messages go to them in turn.")
    int users;

    @Option(names = "--rate", defaultValue = "5000", description = "Messages per second.")
    double rate;

    @Option(names = "--seconds", defaultValue = "30",
        description = "How long the measured part publishes.")
    int seconds;

    @Option(names = "--warmup-seconds", defaultValue = "30",
        description = "Publish this long first, unmeasured (JIT warm-up).")
    int warmup;
  }

  @Command(name = "latency", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Latency percentiles and CPU per delivered message at a fixed rate.")
  static final class Latency implements Callable<Integer> {
    @Mixin Target target;
    @Mixin FixedRate f;
    @Mixin HomingPids pids;
    @Mixin BrokerPid broker;

    @Override
    public Integer call() throws Exception {
      return publish(target, new Bench(target).latency("latency", false, f.users, f.rate,
          Duration.ofSeconds(f.warmup), Duration.ofSeconds(f.seconds),
          pids.meter(target, broker)));
    }
  }

  @Command(name = "backlog", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Queue M messages for each of N offline users, connect them, time the drain.")
  static final class Backlog implements Callable<Integer> {
    @Mixin Target target;

    @Option(names = "--users", defaultValue = "100",
        description = "Offline users to queue messages for.")
    int users;

    @Option(names = "--messages", defaultValue = "1000",
        description = "Messages queued for each user before they connect.")
    int messages;

    @Override
    public Integer call() throws Exception {
      return publish(target, new Bench(target).backlog(users, messages));
    }
  }

  @Command(name = "kafka-baseline", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Raw Kafka produce->consume on the same broker and settings: stepped like "
          + "throughput, then latency at --rate; the broker's CPU per message.")
  static final class KafkaBaseline implements Callable<Integer> {
    @Mixin Target target;
    @Mixin Stepping s;
    @Mixin BrokerPid broker;

    @Option(names = "--rate", defaultValue = "5000",
        description = "Messages per second of the latency run.")
    double rate;

    @Option(names = "--seconds", defaultValue = "30",
        description = "How long the latency run's measured part publishes.")
    int seconds;

    @Override
    public Integer call() throws Exception {
      StepPlan plan = s.plan();
      Bench bench = new Bench(target);
      CpuMeter cpu = CpuMeter.ofBroker(target, broker.pid);
      return publish(target,
          bench.throughput("kafka-baseline-throughput", true, s.users, plan, cpu),
          bench.latency("kafka-baseline-latency", true, s.users, rate,
              Duration.ofSeconds(s.warmup), Duration.ofSeconds(seconds), cpu));
    }
  }

  @Command(name = "suite", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Everything in one run, with Homing's figures over raw Kafka's: throughput of "
          + "both, latency of both at each of --latency-rates, backlog, connections.")
  static final class Suite implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Target target;
    @Mixin Stepping s;
    @Mixin HomingPids pids;
    @Mixin BrokerPid broker;

    @Option(names = "--seconds", defaultValue = "30",
        description = "How long each latency run's measured part publishes.")
    int seconds;

    @Option(names = "--latency-rates", split = ",", paramLabel = "<rate>",
        defaultValue = "100,2000",
        description = "Fixed rates (msg/s) both are measured at for latency, comma-separated.")
    List<Double> latencyRates;

    @Option(names = "--backlog-users", defaultValue = "1",
        description = "Offline users of the backlog run.")
    int backlogUsers;

    @Option(names = "--backlog-messages", defaultValue = "10000",
        description = "Messages queued for each backlog user.")
    int backlogMessages;

    @Option(names = "--connections", defaultValue = "0",
        description = "Also ramp this many idle connections (0: skip).")
    int connections;

    /** Kafka's throughput, Homing's, then at each rate Kafka's latency and Homing's, backlog. */
    @Override
    public Integer call() throws Exception {
      StepPlan plan = s.plan();
      for (double rate : latencyRates) {
        if (!(rate > 0)) {
          throw new ParameterException(spec.commandLine(),
              "--latency-rates: " + rate + " (expected: > 0)");
        }
      }
      Bench bench = new Bench(target);
      CpuMeter cpu = pids.meter(target, broker);
      Duration measured = Duration.ofSeconds(seconds);
      Report kafkaMax = bench.throughput("kafka-baseline-throughput", true, s.users, plan, cpu);
      Report homingMax = bench.throughput("throughput", false, s.users, plan, cpu);
      List<Report> kafkaLatency = new ArrayList<>();
      List<Report> homingLatency = new ArrayList<>();
      List<Report> all = new ArrayList<>(List.of(kafkaMax, homingMax));
      for (double rate : latencyRates) {
        // The rate in the name keeps the reports of one scenario apart.
        String at = Summary.number(rate);
        Report kafka = bench.latency("kafka-baseline-latency-" + at, true, s.users, rate,
            plan.warmup(), measured, cpu);
        Report homing = bench.latency("latency-" + at, false, s.users, rate, plan.warmup(),
            measured, cpu);
        kafkaLatency.add(kafka);
        homingLatency.add(homing);
        all.add(kafka);
        all.add(homing);
      }
      Report backlog = bench.backlog(backlogUsers, backlogMessages);
      all.add(backlog);
      if (connections > 0) {
        all.add(bench.connections(connections, Duration.ofSeconds(5), 0));
      }
      publish(target, all.toArray(Report[]::new));
      String summary = Summary.markdown(kafkaMax, homingMax, kafkaLatency, homingLatency, backlog);
      Files.writeString(target.out.resolve("suite-" + target.runId + ".md"), summary);
      System.out.println(summary);
      return 0;
    }
  }
}
