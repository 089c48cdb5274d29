-- create: POST /items, every name new to the whole run. Argument: a prefix the harness
-- makes unique per run, target, round and phase; the thread number and a counter follow.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local headers = { ["Content-Type"] = "application/json", ["Authorization"] = wrk.headers["Authorization"] }
local prefix
local counter = 0

function init(args)
  prefix = args[1] .. "-t" .. thread_number
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"name":"%s-%d","description":"Written by the benchmark to time one create.",'
      .. '"quantity":%d}',
    prefix, counter, counter % 1000
  )
  return wrk.format("POST", "/items", headers, body)
end
