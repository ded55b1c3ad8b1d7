package io.homing.runtime.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.AnnotatedElement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/**
 * Runs a service's picocli command with its configuration from three places, each over the
 * next: flags, environment variables, the YAML file of {@code --config} (docs/configuration.md).
 * An option's environment variable is the one its default names ({@code ${env:NAME:-default}});
 * the file fills an option only while that variable is unset. {@code --print-config} prints what
 * resulted instead of running.
 *
 * <p>The file is a mapping of option names without their dashes to a value, or to a list for an
 * option that takes several. A key that names no option, a nested mapping or a list for a
 * single-valued option is refused before anything starts, so that a misspelt key cannot go
 * unnoticed.
 */
public final class ServiceCommand {
  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Za-z0-9_]+)(:-.*)?}");
  private static final Set<String> NOT_CONFIGURABLE =
      Set.of("config", "print-config", "help", "version");
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The password of a URL's user information: {@code scheme://user:password@}. */
  private static final Pattern URL_PASSWORD =
      Pattern.compile("^([a-z][a-z0-9+.-]*://[^:@/]*:)[^@/]*@");
  /** Property names whose values are secrets. */
  private static final Pattern SECRET_PROPERTY =
      Pattern.compile("password|secret|jaas|credential|token|(^|[.])key($|[.])");
  /** What picocli's {@code @Option(defaultValue)} holds when none is declared. */
  private static final String NO_DEFAULT = "__no_default_value__";

  private ServiceCommand() {}

  /** Parses {@code args}, then runs {@code command} or prints; returns the exit code. */
  public static int run(Object command, String[] args) {
    return run(command, args, null, null);
  }

  /** {@link #run(Object, String[])} printing to {@code out} and {@code err} (null: standard). */
  static int run(Object command, String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(command);
    if (out != null) {
      cli.setOut(out);
    }
    if (err != null) {
      cli.setErr(err);
    }
    CommandSpec spec = cli.getCommandSpec();
    Optional<String> file = configFile(args);
    Map<String, JsonNode> values;
    try {
      values = file.isPresent() ? load(Path.of(file.get()), spec) : Map.of();
    } catch (IllegalArgumentException e) {
      cli.getErr().println(spec.name() + ": " + e.getMessage());
      cli.getErr().flush();
      return CommandLine.ExitCode.USAGE;
    }
    cli.setDefaultValueProvider(new FileDefaults(values));
    cli.setExecutionStrategy(parsed -> {
      Integer help = CommandLine.executeHelpRequest(parsed);
      if (help != null) {
        return help;
      }
      applyLists(parsed, values);
      if (parsed.hasMatchedOption("--print-config")) {
        print(parsed, values, file, cli.getOut());
        return CommandLine.ExitCode.OK;
      }
      return new CommandLine.RunLast().execute(parsed);
    });
    return cli.execute(args);
  }

  /** {@code --config FILE}, {@code --config=FILE}, else HOMING_CONFIG; blank is none. */
  static Optional<String> configFile(String[] args) {
    String file = System.getenv("HOMING_CONFIG");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        file = args[i + 1];
      } else if (args[i].startsWith("--config=")) {
        file = args[i].substring("--config=".length());
      }
    }
    return file == null || file.isBlank() ? Optional.empty() : Optional.of(file);
  }

  /** The file's values by option name, each checked against {@code spec}'s options. */
  static Map<String, JsonNode> load(Path file, CommandSpec spec) {
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(Files.readString(file));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("config file " + file + " is not YAML: "
          + e.getOriginalMessage() + location(e));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read config file " + file + ": " + e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return Map.of();
    }
    if (!root.isObject()) {
      throw new IllegalArgumentException("config file " + file + " must be a mapping of option "
          + "names to values (expected e.g. `ws-port: 7410`)");
    }
    Map<String, OptionSpec> options = configurable(spec);
    Map<String, JsonNode> values = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : root.properties()) {
      String key = entry.getKey();
      OptionSpec option = options.get(key);
      if (option == null) {
        throw new IllegalArgumentException("config file " + file + ": '" + key + "' is not an "
            + "option of " + spec.name() + suggestion(key, options.keySet()));
      }
      JsonNode value = entry.getValue();
      if (value.isObject()) {
        throw new IllegalArgumentException("config file " + file + ": '" + key
            + "' holds a mapping (expected a value" + (option.isMultiValue() ? " or a list)" : ")"));
      }
      if (value.isArray()) {
        if (!option.isMultiValue()) {
          throw new IllegalArgumentException("config file " + file + ": '" + key
              + "' takes one value, not a list");
        }
        for (JsonNode element : value) {
          if (element.isContainerNode()) {
            throw new IllegalArgumentException("config file " + file + ": '" + key
                + "' lists something other than values");
          }
        }
      }
      values.put(key, value);
    }
    return values;
  }

  /** The options a file may set, by name without dashes. */
  public static Map<String, OptionSpec> configurable(CommandSpec spec) {
    Map<String, OptionSpec> options = new LinkedHashMap<>();
    for (OptionSpec option : spec.options()) {
      String key = key(option);
      if (!NOT_CONFIGURABLE.contains(key)) {
        options.put(key, option);
      }
    }
    return options;
  }

  /** The name an option has in a config file: its longest name without the dashes. */
  public static String key(OptionSpec option) {
    return option.longestName().replaceFirst("^-+", "");
  }

  /** The environment variable an option's default names, if any. */
  public static Optional<String> environmentVariable(ArgSpec option) {
    return declaredDefault(option).map(ENV_DEFAULT::matcher).filter(Matcher::matches)
        .map(env -> env.group(1));
  }

  /**
   * The default an option has when neither its environment variable nor the file sets it: what
   * follows {@code :-} in {@code ${env:NAME:-default}}, else its declared default; empty when it
   * has none.
   */
  public static String builtInDefault(ArgSpec option) {
    return declaredDefault(option).map(declared -> {
      Matcher env = ENV_DEFAULT.matcher(declared);
      if (!env.matches()) {
        return declared;
      }
      return env.group(2) == null ? "" : env.group(2).substring(2);
    }).orElse("");
  }

  /** The default of the option's annotation, unresolved. */
  private static Optional<String> declaredDefault(ArgSpec option) {
    if (option.userObject() instanceof AnnotatedElement element) {
      Option annotation = element.getAnnotation(Option.class);
      if (annotation != null && !annotation.defaultValue().equals(NO_DEFAULT)) {
        return Optional.of(annotation.defaultValue());
      }
    }
    return Optional.empty();
  }

  /** Whether the environment sets {@code option}'s variable, which then wins over the file. */
  private static boolean setByEnvironment(ArgSpec option) {
    return environmentVariable(option).map(System::getenv).isPresent();
  }

  /** Values for the options that take several but split none: picocli sets them as one. */
  private static boolean listedOneByOne(OptionSpec option) {
    return option.isMultiValue() && option.splitRegex().isEmpty();
  }

  /** Sets the lists of the file for {@link #listedOneByOne} options no flag gave. */
  private static void applyLists(ParseResult parsed, Map<String, JsonNode> values) {
    for (OptionSpec option : parsed.commandSpec().options()) {
      JsonNode value = values.get(key(option));
      if (value != null && listedOneByOne(option) && !parsed.hasMatchedOption(option)
          && !setByEnvironment(option)) {
        List<String> list = new ArrayList<>();
        if (value.isArray()) {
          value.forEach(element -> list.add(element.asText()));
        } else if (!value.isNull()) {
          list.add(value.asText());
        }
        option.setValue(list);
      }
    }
  }

  /** Prints the effective value of every configurable option, with where it came from. */
  private static void print(ParseResult parsed, Map<String, JsonNode> values,
      Optional<String> file, PrintWriter out) {
    CommandSpec spec = parsed.commandSpec();
    out.println("# " + spec.name() + ": effective configuration"
        + file.map(f -> ", with --config " + f).orElse(""));
    for (Map.Entry<String, OptionSpec> entry : configurable(spec).entrySet()) {
      OptionSpec option = entry.getValue();
      String source;
      if (parsed.hasMatchedOption(option)) {
        source = "flag";
      } else if (setByEnvironment(option)) {
        source = "env " + environmentVariable(option).orElseThrow();
      } else if (values.containsKey(entry.getKey())) {
        source = "config file";
      } else {
        source = "default";
      }
      out.println(entry.getKey() + ": " + yaml(option) + "  # " + source);
    }
    out.flush();
  }

  /**
   * An option's value as YAML: numbers and booleans bare, everything else a quoted string; a
   * secret as "<hidden>", but for a URL, which shows with its password masked.
   */
  private static String yaml(OptionSpec option) {
    Object value = option.getValue();
    if (value instanceof Collection<?> list) {
      List<String> elements = new ArrayList<>();
      list.stream().filter(element -> element != null && !element.toString().isEmpty())
          .forEach(element -> elements.add(secret(option) ? "\"<hidden>\""
              : scalar(maskedProperty(element.toString()))));
      return "[" + String.join(", ", elements) + "]";
    }
    if (secret(option) && value != null && !value.toString().isEmpty()) {
      return URL_PASSWORD.matcher(value.toString()).find()
          ? scalar(URL_PASSWORD.matcher(value.toString()).replaceFirst("$1***@"))
          : value.toString().matches("[a-z][a-z0-9+.-]*://[^@]*") ? scalar(value)
          : "\"<hidden>\"";
    }
    return scalar(value);
  }

  private static String scalar(Object value) {
    if (value == null) {
      return "\"\"";
    }
    if (value instanceof Number || value instanceof Boolean) {
      return value.toString();
    }
    try {
      return JSON.writeValueAsString(value.toString());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A {@code name=value} element (a Kafka client property, say) with its value hidden when its
   * name says it is a secret: {@code sasl.jaas.config}, {@code ssl.key.password}, …
   */
  static String maskedProperty(String element) {
    int equals = element.indexOf('=');
    if (equals < 0) {
      return element;
    }
    String name = element.substring(0, equals).toLowerCase(Locale.ROOT);
    return SECRET_PROPERTY.matcher(name).find()
        ? element.substring(0, equals + 1) + "<hidden>" : element;
  }

  /** Options whose value --help and --print-config never show. */
  private static boolean secret(OptionSpec option) {
    String key = key(option);
    return option.showDefaultValue() == Visibility.NEVER
        || key.contains("secret") || key.contains("password");
  }

  private static String suggestion(String key, Set<String> names) {
    List<String> close = names.stream().filter(name -> similar(key, name)).toList();
    return close.isEmpty() ? " (docs/configuration.md lists them)"
        : " (did you mean " + String.join(" or ", close) + "?)";
  }

  /** Same letters once case, '_' and '-' are set aside, or one edit apart. */
  private static boolean similar(String a, String b) {
    String x = a.toLowerCase().replace('_', '-');
    if (x.equals(b) || x.replace("-", "").equals(b.replace("-", ""))) {
      return true;
    }
    return editDistance(x, b) <= 2;
  }

  private static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  private static String location(JsonProcessingException e) {
    return e.getLocation() == null ? ""
        : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr()
            + ")";
  }

  /** The file's value of an option, unless its environment variable is set. */
  private record FileDefaults(Map<String, JsonNode> values) implements IDefaultValueProvider {
    @Override
    public String defaultValue(ArgSpec arg) {
      if (!(arg instanceof OptionSpec option) || listedOneByOne(option)
          || setByEnvironment(option)) {
        return null;
      }
      JsonNode value = values.get(key(option));
      if (value == null) {
        return null;
      }
      if (value.isNull()) {
        return "";
      }
      if (value.isArray()) {
        List<String> elements = new ArrayList<>();
        value.forEach(element -> elements.add(element.asText()));
        return String.join(",", elements);
      }
      return value.asText();
    }
  }
}
