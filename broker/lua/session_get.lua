-- Session data get. ARGV: prefix, sid. Returns connected (0/1), k, v...
local p, sid = ARGV[1], ARGV[2]
local out = {redis.call('HEXISTS', p .. ':sessions', sid)}
for _, x in ipairs(redis.call('HGETALL', p .. ':sdata:' .. sid)) do out[#out + 1] = x end
return out
