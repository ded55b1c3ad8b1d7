package io.homing.edge.auth;

import java.time.Instant;

/** What a valid token proves: who is on the connection, and until when. */
public record VerifiedToken(Identity identity, Instant expiresAt) {}
