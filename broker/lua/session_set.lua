-- Session data set, with bounds. ARGV: prefix, sid, max bytes, max keys,
-- grace, number of deletes, deletes..., key, value...
local p, sid = ARGV[1], ARGV[2]
local maxb, maxk, grace, nd = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local key = p .. ':sdata:' .. sid
local cur, flat = {}, redis.call('HGETALL', key)
for i = 1, #flat, 2 do cur[flat[i]] = flat[i + 1] end
for i = 7, 6 + nd do cur[ARGV[i]] = nil end
for i = 7 + nd, #ARGV, 2 do cur[ARGV[i]] = ARGV[i + 1] end
local bytes, keys = 0, 0
for k, v in pairs(cur) do bytes = bytes + #k + #v; keys = keys + 1 end
if keys > maxk or bytes > maxb then
  return redis.error_reply(string.format('LIMIT session data would hold %d keys, %d bytes (max %d keys, %d bytes)', keys, bytes, maxk, maxb))
end
for i = 7, 6 + nd do redis.call('HDEL', key, ARGV[i]) end
for i = 7 + nd, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
if redis.call('HEXISTS', p .. ':sessions', sid) == 0 and keys > 0 then
  if grace > 0 then redis.call('PEXPIRE', key, grace) else redis.call('DEL', key) end
end
return keys
