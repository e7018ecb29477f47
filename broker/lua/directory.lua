-- Directory entries of one socket (included by forget, reap and unregister):
-- P:sockets id -> node, P:nodesock:<node> id -> meta ("<len of sid>:<sid><uid>"),
-- P:sessions sid -> id, P:user:<uid> set of ids. drop() removes them (only
-- those still pointing at this socket/node) and starts the session data's
-- grace period, unless `heir` (another socket of the session on this node:
-- one engine.io connection has a socket per namespace) takes the session
-- over. If the socket id is registered on another node now (an app
-- re-registered it after its sidecastd was killed and restarted), its
-- session and user entries are that node's and stay. P:nodesock:<node> also
-- holds the marker field '' ("0:", see reap.lua); dropping it is a no-op.
local function parse(meta)
  local c = string.find(meta, ':', 1, true)
  if not c then return '', '' end
  local l = tonumber(string.sub(meta, 1, c - 1))
  return string.sub(meta, c + 1, c + l), string.sub(meta, c + l + 1)
end
local function drop(p, n, id, meta, grace, heir)
  local owner = redis.call('HGET', p .. ':sockets', id)
  if owner == n then redis.call('HDEL', p .. ':sockets', id)
  elseif owner then return end
  local sid, uid = parse(meta)
  if sid ~= '' and redis.call('HGET', p .. ':sessions', sid) == id then
    if heir and heir ~= '' then redis.call('HSET', p .. ':sessions', sid, heir)
    else
      redis.call('HDEL', p .. ':sessions', sid)
      if grace > 0 then redis.call('PEXPIRE', p .. ':sdata:' .. sid, grace)
      else redis.call('DEL', p .. ':sdata:' .. sid) end
    end
  end
  if uid ~= '' then redis.call('SREM', p .. ':user:' .. uid, id) end
end
-- A node's whole directory (a dead node's, or this node's own before it
-- rewrites it), about `budget` entries at a time (drain.lua). Returns
-- whether the node's directory is gone and how many entries were dropped.
local function forget_some(p, n, grace, budget)
  return drain(p .. ':nodesock:' .. n, budget, function(id, meta) drop(p, n, id, meta, grace) end)
end
