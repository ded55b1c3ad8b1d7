package io.homing.core.send;

import java.util.List;

/**
 * Who calls the Send API, as its credentials say, and the users it may send to.
 *
 * @param name the sender's name in the key file, for logs and errors
 * @param recipients patterns of the user ids it may send to: {@code *} for every user, {@code
 *     prefix*} for the ids that start with the prefix, else one exact user id
 */
public record Sender(String name, List<String> recipients) {
  /** Every caller, when the Send API asks for no credentials. */
  static final Sender ANYONE = new Sender("anyone", List.of("*"));

  public Sender {
    recipients = List.copyOf(recipients);
  }

  /** Whether this sender may send to the user. */
  public boolean mayReach(String userId) {
    for (String pattern : recipients) {
      if (pattern.endsWith("*")
          ? userId.startsWith(pattern.substring(0, pattern.length() - 1))
          : userId.equals(pattern)) {
        return true;
      }
    }
    return false;
  }
}
