package io.homing.edge.auth;

import io.homing.api.v1.AuthError;

/** A token was refused; {@link #code()} says why, the message says it for a person. */
public final class AuthenticationException extends Exception {
  private final AuthError.Code code;

  AuthenticationException(AuthError.Code code, String message) {
    super(message);
    this.code = code;
  }

  public AuthError.Code code() {
    return code;
  }
}
