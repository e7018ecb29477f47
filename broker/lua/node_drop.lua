-- A dead node's directory is gone from every bucket (Redis Cluster): take
-- it off the node list, unless it came back meanwhile. ARGV: prefix, node.
-- Returns 1 if it was dropped.
local p, n = ARGV[1], ARGV[2]
if redis.call('EXISTS', p .. ':alive:' .. n) == 1 then return 0 end
redis.call('SREM', p .. ':nodes', n)
redis.call('DEL', p .. ':ver:' .. n, p .. ':nodesock:' .. n)
return 1
