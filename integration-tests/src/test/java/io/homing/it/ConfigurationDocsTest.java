package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.homing.cli.HomingCli;
import io.homing.core.CoreMain;
import io.homing.edge.EdgeMain;
import io.homing.loadtest.LoadTestMain;
import io.homing.notifier.NotifierMain;
import io.homing.runtime.cli.ServiceCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * docs/configuration.md against the code: every option of core, the edges and the notifier has
 * a row with its environment variable and default, and no row names an option that is gone; so
 * the page cannot drift from what the jars take. Also: every option of every command, the CLI's
 * and the load generator's too, says in --help what it means and shows its default.
 */
class ConfigurationDocsTest {
  private static final Path DOCS = Path.of("..", "docs", "configuration.md");
  private static final String SHARED = "Kafka, Redis and mutual TLS (core and edges)";

  /** A table row: flag, env column, default column. */
  private record Row(String flag, String env, String defaults) {}

  @Test
  void everyOptionHasARowWithItsEnvironmentVariableAndDefault() throws IOException {
    Map<String, Map<String, Row>> sections = sections();
    Map<String, CommandSpec> services = services();
    Set<String> sharedUsed = new HashSet<>();
    List<String> problems = new ArrayList<>();
    services.forEach((section, spec) -> {
      Map<String, Row> own = sections.getOrDefault(section, Map.of());
      Map<String, Row> shared = sections.getOrDefault(SHARED, Map.of());
      ServiceCommand.configurable(spec).forEach((key, option) -> {
        String flag = option.longestName();
        Row row = own.containsKey(flag) ? own.get(flag) : shared.get(flag);
        if (row == null) {
          problems.add(section + ": no row for " + flag);
          return;
        }
        if (!own.containsKey(flag)) {
          sharedUsed.add(flag);
        }
        String env = ServiceCommand.environmentVariable(option).map(e -> "`" + e + "`")
            .orElse("—");
        if (!row.env().equals(env)) {
          problems.add(section + ": " + flag + " env is " + row.env() + ", the code says " + env);
        }
        String builtIn = ServiceCommand.builtInDefault(option);
        if (!builtIn.isEmpty() && !row.defaults().contains("`" + builtIn + "`")) {
          problems.add(section + ": " + flag + " default is '" + row.defaults()
              + "', the code says `" + builtIn + "`");
        }
      });
      own.keySet().stream()
          .filter(flag -> !ServiceCommand.configurable(spec).containsKey(flag.substring(2)))
          .forEach(flag -> problems.add(section + ": row " + flag + " names no option"));
    });
    sections.getOrDefault(SHARED, Map.of()).keySet().stream()
        .filter(flag -> !sharedUsed.contains(flag))
        .forEach(flag -> problems.add(SHARED + ": row " + flag + " names no option"));
    assertThat(problems).isEmpty();
  }

  @Test
  void everyOptionOfEveryCommandSaysWhatItMeansAndNamesItsEnvironmentVariable() {
    Map<String, CommandSpec> commands = new LinkedHashMap<>(services());
    addWithSubcommands(commands, new CommandLine(HomingCli.class));
    addWithSubcommands(commands, new CommandLine(LoadTestMain.class));
    List<String> problems = new ArrayList<>();
    commands.forEach((name, spec) -> {
      if (!spec.usageMessage().showDefaultValues()) {
        problems.add(name + " does not show its options' defaults");
      }
      for (OptionSpec option : spec.options()) {
        String description = String.join(" ", option.description());
        if (description.isBlank()) {
          problems.add(name + ": " + option.longestName() + " has no description");
        }
        ServiceCommand.environmentVariable(option)
            .filter(env -> !description.contains("env " + env))
            .ifPresent(env -> problems.add(name + ": " + option.longestName()
                + "'s description does not name " + env));
      }
    });
    assertThat(commands).hasSizeGreaterThan(10);
    assertThat(problems).isEmpty();
  }

  private static void addWithSubcommands(Map<String, CommandSpec> commands, CommandLine command) {
    commands.put(command.getCommandSpec().qualifiedName(), command.getCommandSpec());
    command.getSubcommands().values().forEach(sub -> {
      if (!sub.getCommandSpec().name().equals("help")) {
        addWithSubcommands(commands, sub);
      }
    });
  }

  private static Map<String, CommandSpec> services() {
    Map<String, CommandSpec> services = new LinkedHashMap<>();
    services.put("Edge (`homing-edge.jar`)", new CommandLine(new EdgeMain()).getCommandSpec());
    services.put("Core (`homing-core.jar`)", new CommandLine(new CoreMain()).getCommandSpec());
    services.put("Notifier (`homing-notifier.jar`)",
        new CommandLine(new NotifierMain()).getCommandSpec());
    return services;
  }

  /** The option rows of each "## " section, by flag. */
  private static Map<String, Map<String, Row>> sections() throws IOException {
    Map<String, Map<String, Row>> sections = new LinkedHashMap<>();
    Map<String, Row> current = null;
    for (String line : Files.readAllLines(DOCS)) {
      if (line.startsWith("## ")) {
        current = new LinkedHashMap<>();
        sections.put(line.substring(3).trim(), current);
      } else if (current != null && line.startsWith("| `--")) {
        String[] cells = line.split("\\|");
        String flag = cells[1].trim().replace("`", "");
        current.put(flag, new Row(flag, cells[2].trim(), cells[3].trim()));
      }
    }
    return sections;
  }
}
