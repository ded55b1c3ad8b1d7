package io.homing.store;

/**
 * What the rules need to know of a queued message to remove it: its seq, its size as stored (for
 * the queue's byte count) and when its TTL ends (0: never).
 */
public record QueuedMessage(long seq, int size, long expiresAt) {}
