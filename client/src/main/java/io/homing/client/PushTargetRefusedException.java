package io.homing.client;

import io.homing.api.v1.PushTargetError;

/** The edge did not take a push target; {@link #error()} says why. */
public final class PushTargetRefusedException extends Exception {
  private final PushTargetError error;

  PushTargetRefusedException(PushTargetError error) {
    super(error.getCode() + ": " + error.getMessage());
    this.error = error;
  }

  public PushTargetError error() {
    return error;
  }
}
