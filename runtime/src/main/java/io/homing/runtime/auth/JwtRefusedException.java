package io.homing.runtime.auth;

/** Why a JWT proves nothing. The message never contains the token. */
public final class JwtRefusedException extends Exception {
  private static final long serialVersionUID = 1L;

  private final boolean expired;

  public JwtRefusedException(String message, boolean expired) {
    super(message, null, false, false);
    this.expired = expired;
  }

  /** Whether the token was good but for its {@code exp}: the caller should get a new one. */
  public boolean expired() {
    return expired;
  }
}
