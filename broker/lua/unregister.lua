-- Socket down. ARGV: prefix, node, id, grace, heir (or '')
-- @include drain.lua
-- @include directory.lua
local p, n, id = ARGV[1], ARGV[2], ARGV[3]
local key = p .. ':nodesock:' .. n
local meta = redis.call('HGET', key, id)
if meta then drop(p, n, id, meta, tonumber(ARGV[4]), ARGV[5]) end
redis.call('HDEL', key, id)
return 1
