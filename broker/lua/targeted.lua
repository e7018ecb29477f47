-- Targeted emits of one loop iteration (cluster_emit.c: targeted_flush): resolve
-- socket ids and user ids to nodes and publish once per node (never to the
-- origin, which delivered locally already). A node that several of the
-- emits reach gets them in one PUBLISH, as a Batch envelope (cluster.proto)
-- built here: tag 1 + origin, tag 6 + version 1, tag 14 + the repeated
-- envelopes (tag 1 each). cluster_core.c checks SC_CLUSTER_VERSION is 1.
-- ARGV: prefix, origin, report (1: fill the sender's directory cache), then
-- per emit: envelope, number of socket ids, number of user ids, number of
-- private rooms' socket ids, socket ids..., user ids..., private rooms'
-- socket ids... (cluster_emit.c: an id no node holds there is no loss, the
-- room's own channel was published too; only nodes that advertise private
-- rooms get them). Returns, with report, each listed
-- (or private room's) socket id found on
-- another node and its node, flat (id, node, id, node...), once per id;
-- then always two counts of what could not be routed: listed socket ids
-- found on no node (disconnected, or their node's directory is being
-- rewritten), and envelopes whose PUBLISH reached no subscriber (node gone
-- or resubscribing).
-- KEYS: none, or on a Redis Cluster the home key (every key and node channel
-- share its slot): the node channels are then shard channels, for SPUBLISH.
local p, origin, report = ARGV[1], ARGV[2], ARGV[3] == '1'
local publish = #KEYS > 0 and 'SPUBLISH' or 'PUBLISH'
local function varint(n)
  local s = ''
  while n >= 128 do s = s .. string.char(n % 128 + 128); n = math.floor(n / 128) end
  return s .. string.char(n)
end
local hash, nodeof, out, order, seen, env = p .. ':sockets', {}, {}, {}, {}, nil
local res, told, missed, unrecv = {}, {}, 0, 0
-- Whether a node advertises private rooms (ClusterFeature bit 4 in
-- P:ver:<node>, "<version>:<features>"); one that does not subscribes its
-- sockets' id rooms, so a private room's copy would reach it twice.
local privok = {}
local function private_node(node)
  local ok = privok[node]
  if ok == nil then
    local f = tonumber(string.match(redis.call('GET', p .. ':ver:' .. node) or '', ':(%d+)$') or '0')
    ok = math.floor(f / 4) % 2 == 1
    privok[node] = ok
  end
  return ok
end
local function send(id, listed, quiet)
  local node = nodeof[id]
  if node == nil then node = redis.call('HGET', hash, id) or false; nodeof[id] = node end
  if listed and not quiet and not node then missed = missed + 1 end
  if report and listed and node and node ~= origin and not told[id] then
    told[id] = true; res[#res + 1] = id; res[#res + 1] = node
  end
  if node and node ~= origin and seen[node] ~= env and (not quiet or private_node(node)) then
    seen[node] = env
    local q = out[node]
    if not q then q = {}; out[node] = q; order[#order + 1] = node end
    q[#q + 1] = env
  end
end
local i, nargv = 4, #ARGV
while i + 3 <= nargv do
  local k, u, q = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  env = i
  for j = i + 4, i + 3 + k do send(ARGV[j], true) end
  for j = i + 4 + k, i + 3 + k + u do
    for _, id in ipairs(redis.call('SMEMBERS', p .. ':user:' .. ARGV[j])) do
      send(id, false)
    end
  end
  for j = i + 4 + k + u, i + 3 + k + u + q do send(ARGV[j], true, true) end
  i = i + 4 + k + u + q
end
for _, node in ipairs(order) do
  local q, msg = out[node], nil
  if #q == 1 then msg = ARGV[q[1]] else
    local parts = {}
    for _, e in ipairs(q) do
      local s = ARGV[e]
      parts[#parts + 1] = '\n'; parts[#parts + 1] = varint(#s); parts[#parts + 1] = s
    end
    local items = table.concat(parts)
    msg = table.concat({'\n', varint(#origin), origin, '0\1', 'r', varint(#items), items})
  end
  if redis.call(publish, p .. ':node:' .. node, msg) == 0 then unrecv = unrecv + #q end
end
res[#res + 1] = missed
res[#res + 1] = unrecv
return res
