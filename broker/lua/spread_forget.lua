-- Forget node n's entries in one bucket on a Redis Cluster (spread.lua),
-- about `budget` at a time so that no call holds Redis long: the caller
-- calls again until it answers 1 (all gone). ARGV: tag, node, grace, budget
-- @include drain.lua
-- @include spread.lua
local t, n, grace, budget = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local gone = drain(t .. ':nodesock:' .. n, budget, function(f) drop_field(t, n, f, grace, '', '') end)
return gone and 1 or 0
