package io.homing.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar homing-cli.jar}: mint a dev token, send a message, listen as a user, make a
 * Send API key.
 */
@Command(
    name = "homing",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description = "Talk to a Homing deployment from the command line.",
    subcommands = {TokenCommand.class, SendCommand.class, ListenCommand.class,
        ApiKeyCommand.class, WebhooksCommand.class, StatusCommand.class, AdminCommand.class})
public final class HomingCli {
  /** The secret deploy/local starts its edges with; never use it beyond a laptop. */
  static final String DEV_SECRET = "homing-dev-secret-do-not-use-in-production";

  private HomingCli() {}

  public static void main(String[] args) {
    System.exit(new CommandLine(new HomingCli()).execute(args));
  }
}
