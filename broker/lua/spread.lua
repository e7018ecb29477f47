-- The directory on a Redis Cluster (included by spread_drop and
-- spread_forget), spread over buckets: bucket b (the slot of the socket id,
-- session id or user id, modulo 64) has the hash tag T = "{prefix:b}", and
-- every key of one bucket shares its slot, so every call touches one slot:
--   T:sockets         id  -> "<len>:<node><len of sid>:<sid><uid>"
--   T:sessions        sid -> "<len>:<node><len of id>:<id><uid>"
--   T:sdata:<sid>     the session's data
--   T:user:<uid>      id  -> "<len>:<node><sid>"
--   T:nodesock:<node> what <node> wrote in this bucket, one field each:
--                     "s<id>", "e<sid>", "u<len of id>:<id><uid>" (value '')
-- An entry is removed only while it still names the node removing it (the
-- id may be registered on another node since).
local function lp(s, i)
  local c = string.find(s, ':', i, true)
  if not c then return '', #s + 1 end
  local l = tonumber(string.sub(s, i, c - 1)) or 0
  return string.sub(s, c + 1, c + l), c + l + 1
end
local function names(v, n)
  return v and lp(v, 1) == n
end
-- Drop the entry named by field f of node n's list in bucket t. For a
-- session, `want` ('' for any) is the socket id it must still name and
-- `heir` (if not '') the entry that replaces it: another socket of the
-- session on node n takes it over. Returns whether f stays listed.
local function drop_field(t, n, f, grace, want, heir)
  local kind, key = string.sub(f, 1, 1), string.sub(f, 2)
  if kind == 's' then
    if names(redis.call('HGET', t .. ':sockets', key), n) then redis.call('HDEL', t .. ':sockets', key) end
  elseif kind == 'e' then
    local v = redis.call('HGET', t .. ':sessions', key)
    if not names(v, n) then return false end
    local _, i = lp(v, 1)
    if want ~= '' and lp(v, i) ~= want then return true end
    if heir ~= '' then redis.call('HSET', t .. ':sessions', key, heir); return true end
    redis.call('HDEL', t .. ':sessions', key)
    if grace > 0 then redis.call('PEXPIRE', t .. ':sdata:' .. key, grace)
    else redis.call('DEL', t .. ':sdata:' .. key) end
  elseif kind == 'u' then
    local id, i = lp(key, 1)
    local uk = t .. ':user:' .. string.sub(key, i)
    if names(redis.call('HGET', uk, id), n) then redis.call('HDEL', uk, id) end
  end
  return false
end
