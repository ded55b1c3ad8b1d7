package io.homing.cli;

import io.homing.api.ApiKey;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "api-key", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = {"Make a new Send API key for a sender: prints the key, for the sender to keep "
        + "secret, and the line that lets it in, for the core's --send-api-keys file "
        + "(docs/security.md)."})
final class ApiKeyCommand implements Callable<Integer> {
  @Option(names = {"-n", "--name"}, required = true,
      description = "The sender's name, for logs and errors.")
  String name;

  @Option(names = {"-u", "--users"}, defaultValue = "*",
      description = "The users it may send to: comma-separated user ids, prefix* patterns or * "
          + "for every user. Default: ${DEFAULT-VALUE}.")
  String users;

  @Override
  public Integer call() {
    String invalid = ApiKey.invalidSender(name, users);
    if (invalid != null) {
      System.err.println("api-key: " + invalid);
      return 2;
    }
    String key = ApiKey.generate();
    System.out.println("key (give it to the sender; it is shown only now):");
    System.out.println("  " + key);
    System.out.println("line for the --send-api-keys file:");
    System.out.println("  " + name + " " + ApiKey.hash(key) + " " + users);
    return 0;
  }
}
