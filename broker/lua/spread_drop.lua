-- Socket down on a Redis Cluster: node n's entries of one socket in one
-- bucket (spread.lua). ARGV: tag, node, grace, then triples: field of the
-- node's list, socket id a session must still name (or ''), the entry of
-- the heir that takes the session over (or '').
-- @include spread.lua
local t, n, grace = ARGV[1], ARGV[2], tonumber(ARGV[3])
local key = t .. ':nodesock:' .. n
for i = 4, #ARGV - 2, 3 do
  if not drop_field(t, n, ARGV[i], grace, ARGV[i + 1], ARGV[i + 2]) then
    redis.call('HDEL', key, ARGV[i])
  end
end
return 1
