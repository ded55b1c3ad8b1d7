-- KEYS[1] = presence:{user}; ARGV[1] = device, ARGV[2] = "{node}|{connection}", ARGV[3] = key TTL ms
-- Points the device at this connection (a newer connection of the device wins) and keeps the
-- user's hash alive for as long as some device of the user registers. Returns the route the
-- device had before (nil when it had none), so the caller can tell the node that held it.
local previous = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return previous
