package io.homing.cli;

import io.homing.client.Tokens;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Option;

@Command(name = "token", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Print a client token (HS256 JWT) for a user and device.")
final class TokenCommand implements Callable<Integer> {
  @Option(names = {"-u", "--user"}, required = true, description = "User id (the token's sub).")
  String user;

  @Option(names = {"-d", "--device"}, defaultValue = "cli", description = "Device id.")
  String device;

  @Option(names = "--secret", showDefaultValue = Visibility.NEVER,
      defaultValue = "${env:HOMING_JWT_SECRET:-" + HomingCli.DEV_SECRET + "}",
      description = "HS256 secret shared with the edges (env HOMING_JWT_SECRET); "
          + "default the local stack's development secret.")
  String secret;

  @Option(names = "--ttl", defaultValue = "PT24H", description = "Validity, ISO-8601.")
  Duration ttl;

  @Override
  public Integer call() {
    System.out.println(Tokens.mint(secret, user, device, ttl));
    return 0;
  }
}
