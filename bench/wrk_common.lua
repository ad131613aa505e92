-- Shared by the wrk scripts (require "bench.wrk_common"; wrk runs from the project root):
-- numbers each thread (its global `index`) and splits the comma lists given in WRK_*.
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

function split(text)
  local out = {}
  for item in string.gmatch(text, "[^,]+") do table.insert(out, item) end
  return out
end

function json_headers()
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")
  wrk.headers["Content-Type"] = "application/json"
end
