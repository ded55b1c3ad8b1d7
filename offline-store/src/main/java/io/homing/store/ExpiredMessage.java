package io.homing.store;

/** A queued message whose TTL ended, and the user whose queue holds it. */
public record ExpiredMessage(String userId, QueuedMessage message) {}
