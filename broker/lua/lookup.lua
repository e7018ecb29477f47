-- Lookup. ARGV: prefix, kind (session|socket|user), key. Returns flat
-- id, node, node info, meta for each socket on a live node.
local p, kind, key = ARGV[1], ARGV[2], ARGV[3]
local ids = {}
if kind == 'session' then
  local id = redis.call('HGET', p .. ':sessions', key)
  if id then ids = {id} end
elseif kind == 'socket' then ids = {key}
else ids = redis.call('SMEMBERS', p .. ':user:' .. key) end
local out, alive = {}, {}
for _, id in ipairs(ids) do
  local node = redis.call('HGET', p .. ':sockets', id)
  if node and alive[node] == nil then
    alive[node] = redis.call('GET', p .. ':alive:' .. node) or false
  end
  local info = node and alive[node]
  if info then
    out[#out + 1] = id
    out[#out + 1] = node
    out[#out + 1] = info
    out[#out + 1] = redis.call('HGET', p .. ':nodesock:' .. node, id) or '0:'
  end
end
return out
