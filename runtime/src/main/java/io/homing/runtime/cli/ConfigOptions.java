package io.homing.runtime.cli;

import picocli.CommandLine.Option;

/**
 * {@code --config} and {@code --print-config}, a picocli mixin of every service; {@link
 * ServiceCommand} acts on them before the service runs.
 */
public final class ConfigOptions {
  @Option(names = "--config", defaultValue = "${env:HOMING_CONFIG:-}", paramLabel = "<file.yaml>",
      description = "YAML file of options: each key an option's name without the dashes, e.g. "
          + "`ws-port: 7410`; a list for options that take several. Environment variables and "
          + "flags override it (docs/configuration.md) (env HOMING_CONFIG).")
  String file;

  @Option(names = "--print-config",
      description = "Prints every option's effective value as YAML that --config takes, and "
          + "where each came from (flag, env, config file, default), secrets hidden; then exits.")
  boolean print;
}
