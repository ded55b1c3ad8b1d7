package io.homing.loadtest;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * CPU time the deployment's processes spend per delivered message, from their utime + stime in
 * {@code /proc/PID/stat}: core, the edges summed, core and edges together, and the broker (for
 * context: raw Kafka's figure is the broker's alone). Pids are given, or found from who listens
 * on the deployment's ports; one that cannot be found is said once on stderr and every figure
 * needing it is left out — CPU is a side figure, never a reason to fail a run. A process in
 * several roles (an in-process deployment) counts once in each figure, and the meter says so.
 * Not thread-safe: one scenario thread uses it.
 */
final class CpuMeter {
  private static final long ASSUMED_TICKS_PER_SECOND = 100;

  private final List<Source> sources;
  private final Map<String, Set<Long>> figures;
  private final long ticksPerSecond;
  private final Set<Long> unreadable;

  /** One process of the deployment: its role (core, edges, broker), its name, its pid. */
  record Source(String role, String label, long pid) {}

  /** CPU ticks per pid at one moment; a pid that could not be read is absent. */
  record Snapshot(Map<Long, Long> ticks) {}

  CpuMeter(List<Source> sources, Set<String> incompleteRoles, long ticksPerSecond) {
    this(sources, figures(sources, incompleteRoles), ticksPerSecond, new HashSet<>());
  }

  private CpuMeter(List<Source> sources, Map<String, Set<Long>> figures, long ticksPerSecond,
      Set<Long> unreadable) {
    this.sources = List.copyOf(sources);
    this.figures = figures;
    this.ticksPerSecond = ticksPerSecond;
    this.unreadable = unreadable;
  }

  /**
   * Core, edges and broker; a pid of 0 (an empty list for the edges) means: whoever listens on
   * the Send API port, each edge's WebSocket port, the first Kafka bootstrap port.
   */
  static CpuMeter of(Target target, long corePid, List<Long> edgePids, long brokerPid)
      throws InterruptedException {
    List<Source> sources = new ArrayList<>();
    Set<String> incomplete = new HashSet<>();
    find(sources, incomplete, "core", "core", corePid, target.sendApi, "--core-pid");
    if (!edgePids.isEmpty()) {
      for (int i = 0; i < edgePids.size(); i++) {
        sources.add(new Source("edges", "edge " + (i + 1), edgePids.get(i)));
      }
    } else {
      for (int i = 0; i < target.edges.size(); i++) {
        URI ws = target.edges.get(i);
        String address = ws.getHost() + ":" + (ws.getPort() > 0 ? ws.getPort() : 80);
        find(sources, incomplete, "edges", "edge " + (i + 1), 0, address, "--edge-pids");
      }
    }
    find(sources, incomplete, "broker", "broker", brokerPid, target.kafka.bootstrap(),
        "--broker-pid");
    return new CpuMeter(sources, incomplete, ticksPerSecond());
  }

  /** The broker only, as for raw Kafka. */
  static CpuMeter ofBroker(Target target, long brokerPid) throws InterruptedException {
    List<Source> sources = new ArrayList<>();
    Set<String> incomplete = new HashSet<>();
    find(sources, incomplete, "broker", "broker", brokerPid, target.kafka.bootstrap(),
        "--broker-pid");
    return new CpuMeter(sources, incomplete, ticksPerSecond());
  }

  /** This meter's broker figure alone, for raw Kafka in the same run. */
  CpuMeter brokerOnly() {
    List<Source> broker = sources.stream().filter(s -> s.role().equals("broker")).toList();
    Map<String, Set<Long>> figure = new LinkedHashMap<>();
    if (figures.containsKey("broker")) {
      figure.put("broker", figures.get("broker"));
    }
    return new CpuMeter(broker, figure, ticksPerSecond, unreadable);
  }

  Snapshot snapshot() {
    Map<Long, Long> ticks = new HashMap<>();
    for (Set<Long> pids : figures.values()) {
      for (long pid : pids) {
        if (!ticks.containsKey(pid)) {
          read(pid, ticks);
        }
      }
    }
    return new Snapshot(ticks);
  }

  /**
   * {@code core_cpu_us_per_msg}, {@code edges_…}, {@code core_edges_…}, {@code broker_…}: CPU µs
   * spent between the snapshots over the messages delivered meanwhile; those it cannot tell are
   * absent.
   */
  Map<String, Object> perMessage(Snapshot start, Snapshot end, long delivered) {
    Map<String, Object> result = new LinkedHashMap<>();
    if (delivered <= 0) {
      return result;
    }
    for (Map.Entry<String, Set<Long>> figure : figures.entrySet()) {
      Set<Long> pids = figure.getValue();
      if (start.ticks().keySet().containsAll(pids) && end.ticks().keySet().containsAll(pids)) {
        long ticks = 0;
        for (long pid : pids) {
          ticks += end.ticks().get(pid) - start.ticks().get(pid);
        }
        double micros = ticks * 1e6 / ticksPerSecond;
        result.put(figure.getKey() + "_cpu_us_per_msg", Report.round(micros / delivered));
      }
    }
    return result;
  }

  /** Which process is which, e.g. {@code core 311, edge 1 312, edge 2 313, broker 290}. */
  String pids() {
    return sources.stream().map(s -> s.label() + " " + s.pid()).collect(Collectors.joining(", "));
  }

  /** Says which pids play several roles (or are this load generator); empty if none. */
  String note() {
    Map<Long, List<String>> roles = new LinkedHashMap<>();
    sources.forEach(s -> roles.computeIfAbsent(s.pid(), p -> new ArrayList<>()).add(s.label()));
    List<String> notes = new ArrayList<>();
    long self = ProcessHandle.current().pid();
    roles.forEach((pid, labels) -> {
      List<String> all = new ArrayList<>(labels);
      if (pid == self) {
        all.add("this load generator");
      }
      if (all.size() > 1) {
        notes.add("pid " + pid + " is " + String.join(", ", all)
            + ": one process, counted once per figure");
      }
    });
    return String.join("; ", notes);
  }

  private void read(long pid, Map<Long, Long> ticks) {
    try {
      ticks.put(pid, ProcessStats.cpuTicks(pid));
    } catch (IOException | RuntimeException e) {
      if (unreadable.add(pid)) {
        Progress.line("cpu: cannot read /proc/%d/stat (%s); figures with it are left out", pid, e);
      }
    }
  }

  /** Which pids each figure sums; a figure with a role that was not found is left out. */
  private static Map<String, Set<Long>> figures(List<Source> sources, Set<String> incomplete) {
    Map<String, Set<Long>> figures = new LinkedHashMap<>();
    add(figures, "core", sources, incomplete, "core");
    add(figures, "edges", sources, incomplete, "edges");
    add(figures, "core_edges", sources, incomplete, "core", "edges");
    add(figures, "broker", sources, incomplete, "broker");
    return figures;
  }

  private static void add(Map<String, Set<Long>> figures, String name, List<Source> sources,
      Set<String> incomplete, String... roles) {
    Set<Long> pids = new LinkedHashSet<>();
    for (String role : roles) {
      Set<Long> ofRole =
          sources.stream().filter(s -> s.role().equals(role)).map(Source::pid)
              .collect(Collectors.toCollection(LinkedHashSet::new));
      if (ofRole.isEmpty() || incomplete.contains(role)) {
        return;
      }
      pids.addAll(ofRole);
    }
    figures.put(name, pids);
  }

  /** Adds the given pid, or whoever listens on the address's port; says so once if neither. */
  private static void find(List<Source> sources, Set<String> incomplete, String role,
      String label, long given, String address, String option) throws InterruptedException {
    if (given > 0) {
      sources.add(new Source(role, label, given));
      return;
    }
    String first = address.split(",")[0];
    try {
      int port = Integer.parseInt(first.substring(first.lastIndexOf(':') + 1));
      sources.add(new Source(role, label, ProcessStats.listeningOn(port)));
    } catch (IOException | RuntimeException e) {
      incomplete.add(role);
      Progress.line("cpu: cannot find the %s process at %s (%s); its CPU per message is left "
          + "out, %s names it", label, first, e.getMessage(), option);
    }
  }

  private static long ticksPerSecond() throws InterruptedException {
    try {
      return ProcessStats.clockTicksPerSecond();
    } catch (IOException | RuntimeException e) {
      Progress.line("cpu: getconf CLK_TCK failed (%s); assuming %d ticks a second", e,
          ASSUMED_TICKS_PER_SECOND);
      return ASSUMED_TICKS_PER_SECOND;
    }
  }
}
