package io.homing.client;

import io.homing.api.v1.AuthError;

/** The edge refused the token; {@link #error()} says why. */
public final class AuthRefusedException extends Exception {
  private final AuthError error;

  AuthRefusedException(AuthError error) {
    super(error.getCode() + ": " + error.getMessage());
    this.error = error;
  }

  public AuthError error() {
    return error;
  }
}
