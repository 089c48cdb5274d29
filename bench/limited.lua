-- limited: the requests of get_one, sent to a service started with a budget of one request
-- an hour, so every answer after the first is the rate limit's 429. It measures that path: the
-- limit check and the problem response. Argument: the file with one seeded id per line.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "get_one.lua")
