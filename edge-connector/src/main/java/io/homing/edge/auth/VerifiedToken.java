package io.homing.edge.auth;

import java.time.Instant;

/**
 * What a verified token proves: who is on the connection, and until when.
 *
 * @param identity the user ({@code sub}) and device ({@code device})
 * @param expiresAt the token's {@code exp}; the connection it authenticated ends then
 */
public record VerifiedToken(Identity identity, Instant expiresAt) {}
