-- Remove a node's directory entries (those still pointing at it), about
-- `budget` at a time (forget_some in directory.lua), so that no call holds
-- Redis long however many sockets the node has: the caller calls again
-- until it answers 1 (all gone).
-- ARGV: prefix, node, grace, budget
-- @include drain.lua
-- @include directory.lua
local gone = forget_some(ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
return gone and 1 or 0
