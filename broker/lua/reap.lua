-- Heartbeat: renew this node's liveness, list live nodes and reap the dead
-- ones, in one atomic step. Before renewing, it checks that this node is
-- still whole in Redis: its liveness key had not expired, it is in the node
-- list, and its directory still holds the marker field '' that every
-- directory rewrite writes (socket ids are never empty). A stall past the
-- TTL (reaped by a survivor), FLUSHALL/FLUSHDB, a Redis restart without
-- persistence, a failover to an empty replica or an evicted key all clear
-- at least one of them. P:ver:<node> holds "<cluster version>:<feature
-- bits>" (decimal) with the same TTL; a node from before versioning has none.
-- A dead node's directory is removed at most `budget` entries per call
-- (forget_some): a node that held more stays listed (not live) until a
-- later heartbeat finishes it, and only then counts as reaped.
-- ARGV: prefix, grace, self, info, ttl, ver, budget (entries per call;
-- absent: no limit), list. Returns id, info, ver (or '') triples, then the
-- number reaped, then flags "<alive><member><marker>" as three 0/1 digits.
-- With list '1' (Redis Cluster, whose directory is spread over slots this
-- call cannot touch: spread.lua) no directory is removed here: the dead
-- nodes' ids come after the triples, then their count, and the caller
-- forgets them bucket by bucket, then drops them (node_drop.lua).
-- @include drain.lua
-- @include directory.lua
local p, grace, self, info, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local budget = tonumber(ARGV[7]) or math.huge
local flags = (redis.call('EXISTS', p .. ':alive:' .. self) == 1 and '1' or '0') ..
  (redis.call('SISMEMBER', p .. ':nodes', self) == 1 and '1' or '0') ..
  (redis.call('HEXISTS', p .. ':nodesock:' .. self, '') == 1 and '1' or '0')
redis.call('SET', p .. ':alive:' .. self, info, 'PX', ttl)
redis.call('SADD', p .. ':nodes', self)
redis.call('SET', p .. ':ver:' .. self, ARGV[6], 'PX', ttl)
local list = ARGV[8] == '1'
local live, dead, dead_ids = {}, 0, {}
for _, n in ipairs(redis.call('SMEMBERS', p .. ':nodes')) do
  local v = redis.call('GET', p .. ':alive:' .. n)
  if v then
    live[#live + 1] = n
    live[#live + 1] = v
    live[#live + 1] = redis.call('GET', p .. ':ver:' .. n) or ''
  elseif list then
    dead_ids[#dead_ids + 1] = n
  elseif budget > 0 then
    local gone, used = forget_some(p, n, grace, budget)
    budget = budget - used
    if gone then
      redis.call('SREM', p .. ':nodes', n)
      redis.call('DEL', p .. ':ver:' .. n)
      dead = dead + 1
    end
  end
end
if list then
  for _, n in ipairs(dead_ids) do live[#live + 1] = n end
  live[#live + 1] = tostring(#dead_ids)
end
live[#live + 1] = tostring(dead)
live[#live + 1] = flags
return live
