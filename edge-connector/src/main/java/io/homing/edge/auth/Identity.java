package io.homing.edge.auth;

/** Who is on a connection: the user (the token's {@code sub}) and the device. */
public record Identity(String userId, String deviceId) {}
