-- A node's list of directory entries (P:nodesock:<node>, or a bucket's on
-- a Redis Cluster) drained about `budget` entries at a time, so that a
-- script stays short however many the node held (Redis runs nothing else
-- meanwhile; some providers kill scripts after 5 s). Each call starts a
-- scan over what is left and stops once it drained `budget` entries or
-- finished the pass; each entry goes to each(field, value), then off the
-- list. Returns whether the list is gone and how many were drained.
-- (Included before directory.lua, which uses it, and by spread_forget.lua.)
local function drain(key, budget, each)
  local cursor, done = '0', 0
  repeat
    local r = redis.call('HSCAN', key, cursor, 'COUNT', 256)
    cursor = r[1]
    local kv = r[2]
    for i = 1, #kv, 2 do
      each(kv[i], kv[i + 1])
      redis.call('HDEL', key, kv[i])
    end
    done = done + #kv / 2
  until cursor == '0' or done >= budget
  return redis.call('EXISTS', key) == 0, done
end
