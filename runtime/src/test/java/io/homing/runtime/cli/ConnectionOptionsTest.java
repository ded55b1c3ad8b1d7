package io.homing.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.homing.runtime.tls.InternalTls;
import io.homing.runtime.tls.ServerTls;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.OptionSpec;

class ConnectionOptionsTest {
  @Command(name = "service", mixinStandardHelpOptions = true, showDefaultValues = true)
  static final class Service implements Runnable {
    @Mixin ConnectionOptions connections;
    @Mixin MetricsTlsOptions metrics;

    @Override
    public void run() {}
  }

  private static ConnectionOptions parse(String... args) {
    return service(args).connections;
  }

  private static Service service(String... args) {
    Service service = new Service();
    new CommandLine(service).parseArgs(args);
    return service;
  }

  @Test
  void takesKafkaPropertiesOneByOne() {
    ConnectionOptions options = parse("--kafka", "k:9093",
        "--kafka-property", "security.protocol=SSL",
        "--kafka-property", "ssl.truststore.location=/etc/ca.pem");

    assertThat(options.kafka().clientConfig()).containsAllEntriesOf(Map.of(
        "bootstrap.servers", "k:9093",
        "security.protocol", "SSL",
        "ssl.truststore.location", "/etc/ca.pem"));
  }

  @Test
  void internalTlsNeedsAllThreeFiles() {
    assertThat(parse().internalTls(Optional.empty())).isEmpty();
    assertThat(parse("--internal-tls-ca", "ca.pem", "--internal-tls-cert", "core.pem",
            "--internal-tls-key", "core.key").internalTls(Optional.of("homing-edge")))
        .contains(new InternalTls(Path.of("ca.pem"), Path.of("core.pem"), Path.of("core.key"),
            Optional.of("homing-edge")));
    assertThatThrownBy(() -> parse("--internal-tls-ca", "ca.pem").internalTls(Optional.empty()))
        .hasMessage("--internal-tls-ca, --internal-tls-cert and --internal-tls-key go together "
            + "(expected: all three or none)");
    assertThatThrownBy(() -> parse().internalTls(Optional.of("homing-edge")))
        .hasMessageStartingWith("--internal-tls-server-name needs --internal-tls-ca");
  }

  @Test
  void metricsTlsIsTlsFirst() {
    assertThat(service().metrics.metricsTls()).isEmpty();
    assertThat(service("--metrics-tls-cert", "m.pem", "--metrics-tls-key", "m.key",
            "--metrics-tls-client-ca", "ca.pem").metrics.metricsTls())
        .contains(new ServerTls(Path.of("m.pem"), Path.of("m.key"),
            Optional.of(Path.of("ca.pem"))));
    assertThatThrownBy(() -> service("--metrics-tls-client-ca", "ca.pem").metrics.metricsTls())
        .hasMessage("--metrics-tls-client-ca needs --metrics-tls-cert and --metrics-tls-key "
            + "(mutual TLS is TLS first)");
    assertThatThrownBy(() -> service("--metrics-tls-cert", "m.pem").metrics.metricsTls())
        .hasMessage("--metrics-tls-cert and --metrics-tls-key go together "
            + "(expected: both or neither)");
  }

  @Test
  void helpShowsNoPasswordFromTheEnvironment() {
    StringWriter help = new StringWriter();
    CommandLine command = new CommandLine(new Service());
    // As HOMING_REDIS_PASSWORD and a REDIS_URL with a password would give them.
    command.setDefaultValueProvider(argument -> {
      String name = argument instanceof OptionSpec option ? option.longestName() : "";
      return switch (name) {
        case "--redis-password" -> "s3cret";
        case "--redis" -> "rediss://homing:s3cret@redis:6380";
        default -> null;
      };
    });
    command.setOut(new PrintWriter(help));
    command.execute("--help");

    assertThat(help.toString()).contains("--redis-password").doesNotContain("s3cret");
  }
}
