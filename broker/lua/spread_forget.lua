-- Forget node n's entries in one bucket on a Redis Cluster (spread.lua),
-- about `budget` at a time so that no call holds Redis long: the caller
-- calls again until it answers 1 (all gone). ARGV: tag, node, grace, budget
-- @include spread.lua
local t, n, grace, budget = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local key = t .. ':nodesock:' .. n
local cursor, done = '0', 0
repeat
  local r = redis.call('HSCAN', key, cursor, 'COUNT', 256)
  cursor = r[1]
  local kv = r[2]
  for i = 1, #kv, 2 do
    drop_field(t, n, kv[i], grace, '', '')
    redis.call('HDEL', key, kv[i])
  end
  done = done + #kv / 2
until cursor == '0' or done >= budget
return redis.call('EXISTS', key) == 0 and 1 or 0
