package io.homing.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory of another JVM on this machine: its heap in use after a full GC ({@code jcmd}) and its
 * resident set size ({@code /proc}); and the CPU time of any process ({@code /proc}). Linux only.
 */
record ProcessStats(long heapUsedBytes, long rssBytes) {
  private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
  private static final Pattern RSS = Pattern.compile("VmRSS:\\s+(\\d+) kB");
  private static final Pattern PID = Pattern.compile("pid=(\\d+)");

  static ProcessStats measure(long pid) throws IOException, InterruptedException {
    run("jcmd", Long.toString(pid), "GC.run");
    Matcher heap = HEAP_USED.matcher(run("jcmd", Long.toString(pid), "GC.heap_info"));
    Matcher rss =
        RSS.matcher(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
    if (!heap.find() || !rss.find()) {
      throw new IllegalStateException("cannot read the memory of process " + pid);
    }
    return new ProcessStats(Long.parseLong(heap.group(1)) * 1024, Long.parseLong(rss.group(1)) * 1024);
  }

  /** The CPU time (user + system) the process used so far, in clock ticks. */
  static long cpuTicks(long pid) throws IOException {
    return cpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
  }

  /**
   * Fields 14 and 15 (utime, stime) of a {@code /proc/PID/stat} line. Field 2, the command name in
   * parentheses, may itself hold spaces and parentheses: the fields count from the last ')'.
   */
  static long cpuTicks(String stat) {
    int commEnd = stat.lastIndexOf(')');
    String[] fields = stat.substring(commEnd + 1).trim().split("\\s+");
    if (commEnd < 0 || fields.length < 13) {
      throw new IllegalArgumentException("/proc/PID/stat: '" + stat.strip()
          + "' (expected: pid (comm) and at least 13 more fields)");
    }
    // fields[0] is field 3 (state), so utime and stime are fields[11] and fields[12].
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  /** Clock ticks per second of /proc's CPU times ({@code getconf CLK_TCK}). */
  static long clockTicksPerSecond() throws IOException, InterruptedException {
    return Long.parseLong(run("getconf", "CLK_TCK").strip());
  }

  /** The process listening on the TCP port, found with {@code ss}. */
  static long listeningOn(int port) throws IOException, InterruptedException {
    Matcher m = PID.matcher(run("ss", "-Hltnp", "sport = :" + port));
    if (!m.find()) {
      throw new IllegalStateException("no process listens on port " + port + " (or ss is missing)");
    }
    return Long.parseLong(m.group(1));
  }

  private static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
    }
    return out;
  }
}
