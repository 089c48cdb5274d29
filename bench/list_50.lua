-- list_50: GET /items?limit=50, the first page of the newest items.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

wrk.method = "GET"
wrk.path = "/items?limit=50"
