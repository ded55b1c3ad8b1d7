-- KEYS[1] = presence:{user}; ARGV[1] = device, ARGV[2] = "{node}|{connection}"
-- Removes the device's entry only if it still names this connection: a device that already
-- reconnected elsewhere must not be erased by its old connection's late disconnect.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
