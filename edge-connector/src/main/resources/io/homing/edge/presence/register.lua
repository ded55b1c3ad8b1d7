-- KEYS[1] = presence:{user}; ARGV[1] = device, ARGV[2] = "{node}|{connection}",
-- ARGV[3] = key TTL ms
-- KEYS[2], off a cluster only: the user's hash as edges before hash tags wrote it, presence:user.
-- Points the device at this connection (a newer connection of the device wins) and keeps the
-- user's hash alive for as long as some device of the user registers. Returns the route the
-- device had before (nil when it had none), so the caller can tell the node that held it; a
-- route in the old hash is moved out of it, so that it no longer competes with this one.
local previous = redis.call('HGET', KEYS[1], ARGV[1])
if KEYS[2] then
  local legacy = redis.call('HGET', KEYS[2], ARGV[1])
  if legacy then
    redis.call('HDEL', KEYS[2], ARGV[1])
    previous = previous or legacy
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return previous
