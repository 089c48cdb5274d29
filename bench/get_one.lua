-- get_one: GET /items/<id>, each request for an item drawn at random from those the harness
-- seeded. Argument: the file with one seeded id per line.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local requests = {}

function init(args)
  for id in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("GET", "/items/" .. id)
  end
  assert(#requests > 0, "no item ids in " .. args[1])
  math.randomseed(os.time() + thread_number)
end

function request()
  return requests[math.random(#requests)]
end
