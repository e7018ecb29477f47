-- Remove a node's directory entries (those still pointing at it).
-- ARGV: prefix, node, grace
-- @include directory.lua
forget(ARGV[1], ARGV[2], tonumber(ARGV[3]))
return 1
