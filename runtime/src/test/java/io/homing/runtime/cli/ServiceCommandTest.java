package io.homing.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

class ServiceCommandTest {
  @TempDir Path dir;

  /** A service with options of each kind; HOME is set in every test environment. */
  @Command(name = "homing-test", mixinStandardHelpOptions = true, showDefaultValues = true)
  static final class Service implements Callable<Integer> {
    @Option(names = "--node-id", defaultValue = "${env:HOMING_TEST_UNSET_NODE_ID:-edge-1}",
        description = "Id (env HOMING_TEST_UNSET_NODE_ID).")
    String nodeId;

    @Option(names = "--ws-port", defaultValue = "${env:HOMING_TEST_UNSET_WS_PORT:-7410}")
    int wsPort;

    @Option(names = "--heartbeat", defaultValue = "${env:HOMING_TEST_UNSET_HEARTBEAT:-PT30S}")
    Duration heartbeat;

    @Option(names = "--home", defaultValue = "${env:HOME:-nowhere}")
    String home;

    @Option(names = "--allow", split = ",", defaultValue = "${env:HOMING_TEST_UNSET_ALLOW:-}")
    List<String> allow;

    @Option(names = "--property")
    List<String> properties = new ArrayList<>();

    @Option(names = "--jwt-secret", defaultValue = "${env:HOMING_TEST_UNSET_SECRET:-}",
        showDefaultValue = Visibility.NEVER)
    String secret;

    @Option(names = "--redis", defaultValue = "${env:HOMING_TEST_UNSET_REDIS:-redis://h:6379}",
        showDefaultValue = Visibility.NEVER)
    String redis;

    @Mixin ConfigOptions config;

    boolean ran;

    @Override
    public Integer call() {
      ran = true;
      return 0;
    }
  }

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(Service service, String... args) {
    return ServiceCommand.run(service, args, new PrintWriter(out), new PrintWriter(err));
  }

  private Path config(String yaml) throws IOException {
    return Files.writeString(dir.resolve("homing.yaml"), yaml);
  }

  @Test
  void theFileSetsOptionsThatNoFlagSets() throws IOException {
    Path file = config("""
        node-id: edge-7
        heartbeat: PT5S
        allow: [https://a.example/, https://b.example/]
        property:
          - ssl.enabled.protocols=TLSv1.2,TLSv1.3
          - security.protocol=SSL
        """);
    Service service = new Service();
    assertThat(run(service, "--config", file.toString(), "--ws-port", "9000")).isZero();

    assertThat(service.ran).isTrue();
    assertThat(service.nodeId).isEqualTo("edge-7");
    assertThat(service.heartbeat).isEqualTo(Duration.ofSeconds(5));
    assertThat(service.wsPort).as("the flag").isEqualTo(9000);
    assertThat(service.allow).containsExactly("https://a.example/", "https://b.example/");
    assertThat(service.properties).as("each element one value, commas and all")
        .containsExactly("ssl.enabled.protocols=TLSv1.2,TLSv1.3", "security.protocol=SSL");
  }

  @Test
  void aFlagWinsOverTheFile() throws IOException {
    Path file = config("node-id: edge-7\nproperty: [a=1]\n");
    Service service = new Service();
    assertThat(run(service, "--config=" + file, "--node-id", "edge-9", "--property", "b=2"))
        .isZero();
    assertThat(service.nodeId).isEqualTo("edge-9");
    assertThat(service.properties).containsExactly("b=2");
  }

  @Test
  void anEnvironmentVariableWinsOverTheFile() throws IOException {
    Path file = config("home: /from/the/file\n");
    Service service = new Service();
    assertThat(run(service, "--config", file.toString())).isZero();
    assertThat(service.home).isEqualTo(System.getenv("HOME")).isNotEqualTo("/from/the/file");
  }

  @Test
  void withoutAFileTheDefaultsStand() {
    Service service = new Service();
    assertThat(run(service)).isZero();
    assertThat(service.nodeId).isEqualTo("edge-1");
    assertThat(service.wsPort).isEqualTo(7410);
  }

  @Test
  void aKeyThatNamesNoOptionIsRefusedBeforeTheServiceRuns() throws IOException {
    Path file = config("node_id: edge-7\n");
    Service service = new Service();
    assertThat(run(service, "--config", file.toString())).isEqualTo(2);
    assertThat(service.ran).isFalse();
    assertThat(err.toString()).contains("'node_id' is not an option of homing-test")
        .contains("did you mean node-id?");
  }

  @Test
  void malformedFilesAreRefusedWithWhereAndWhy() throws IOException {
    for (String yaml : List.of("node-id: [edge-7]\n", "heartbeat:\n  seconds: 5\n",
        "- node-id\n", "node-id: \"edge-7\n")) {
      Service service = new Service();
      assertThat(run(service, "--config", config(yaml).toString())).as(yaml).isEqualTo(2);
      assertThat(service.ran).isFalse();
    }
    assertThat(err.toString())
        .contains("'node-id' takes one value, not a list")
        .contains("'heartbeat' holds a mapping")
        .contains("must be a mapping of option names to values")
        .contains("is not YAML");
    Service service = new Service();
    assertThat(run(service, "--config", dir.resolve("missing.yaml").toString())).isEqualTo(2);
    assertThat(err.toString()).contains("cannot read config file");
  }

  @Test
  void printConfigShowsEveryValueAndItsSourceAndReadsBackTheSame() throws IOException {
    Path file = config("node-id: edge-7\nallow: [https://a.example/]\njwt-secret: s3cr3t\n"
        + "redis: redis://homing:pa55@redis:6379/0\n");
    Service printer = new Service();
    assertThat(run(printer, "--config", file.toString(), "--ws-port", "9000", "--print-config"))
        .isZero();
    assertThat(printer.ran).as("printing does not run the service").isFalse();
    String printed = out.toString();
    assertThat(printed)
        .contains("node-id: \"edge-7\"  # config file")
        .contains("ws-port: 9000  # flag")
        .contains("heartbeat: \"PT30S\"  # default")
        .contains("home: \"" + System.getenv("HOME") + "\"  # env HOME")
        .contains("allow: [\"https://a.example/\"]  # config file")
        .contains("jwt-secret: \"<hidden>\"  # config file")
        .contains("redis: \"redis://homing:***@redis:6379/0\"  # config file")
        .doesNotContain("s3cr3t").doesNotContain("pa55")
        .doesNotContain("print-config:").doesNotContain("\nconfig:");

    Path again = Files.writeString(dir.resolve("printed.yaml"),
        printed.replace("\"<hidden>\"", "s3cr3t").replace("***", "pa55"));
    Service reader = new Service();
    assertThat(run(reader, "--config", again.toString())).isZero();
    assertThat(reader.nodeId).isEqualTo("edge-7");
    assertThat(reader.wsPort).isEqualTo(9000);
    assertThat(reader.heartbeat).isEqualTo(Duration.ofSeconds(30));
    assertThat(reader.allow).containsExactly("https://a.example/");
    assertThat(reader.secret).isEqualTo("s3cr3t");
    assertThat(reader.redis).isEqualTo("redis://homing:pa55@redis:6379/0");
  }

  @Test
  void printConfigHidesTheSecretsOfPropertyLists() throws IOException {
    Path file = config("property:\n"
        + "  - security.protocol=SASL_SSL\n"
        + "  - 'sasl.jaas.config=ScramLoginModule required username=\"u\" password=\"pw1\";'\n"
        + "  - ssl.key.password=pw2\n"
        + "  - ssl.keystore.key=pw3\n");
    assertThat(run(new Service(), "--config", file.toString(), "--print-config")).isZero();
    assertThat(out.toString())
        .contains("\"security.protocol=SASL_SSL\"")
        .contains("\"sasl.jaas.config=<hidden>\"")
        .contains("\"ssl.key.password=<hidden>\"")
        .contains("\"ssl.keystore.key=<hidden>\"")
        .doesNotContain("pw1").doesNotContain("pw2").doesNotContain("pw3");
  }

  @Test
  void helpShowsTheFileValuesAsDefaults() throws IOException {
    Path file = config("node-id: edge-7\n");
    assertThat(run(new Service(), "--config", file.toString(), "--help")).isZero();
    assertThat(out.toString()).contains("Default: edge-7");
  }
}
