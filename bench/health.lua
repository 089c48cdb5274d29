-- health: GET /health/live, the cost of a request that reaches no database.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.method = "GET"
wrk.path = "/health/live"
