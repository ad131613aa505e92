-- wrk script: single-grade writes as teachers type them, one connection per thread
-- (run with -t N -c N). Each thread owns its own cells (lesson x pupil), so threads never
-- collide; a cell written before is written again with the version its last answer gave.
--   WRK_TOKEN=... WRK_LESSONS=1,2 WRK_PUPILS=3,4 WRK_THREADS=8 WRK_WORK_TYPE=ДЗ wrk -t8 -c8 -d10s -s bench/wrk_grades.lua URL
require "bench.wrk_common"

function init(args)
  local lessons, pupils = split(os.getenv("WRK_LESSONS")), split(os.getenv("WRK_PUPILS"))
  local count = tonumber(os.getenv("WRK_THREADS"))
  cells, versions, next_cell, values = {}, {}, 0, {"2", "3", "4", "5"}
  local n = 0
  for _, lesson in ipairs(lessons) do
    for _, pupil in ipairs(pupils) do
      if n % count == index then table.insert(cells, {lesson, pupil}) end
      n = n + 1
    end
  end
  work_type = os.getenv("WRK_WORK_TYPE")
  json_headers()
end

function request()
  next_cell = next_cell % #cells + 1
  pending = cells[next_cell]
  local key = pending[1] .. ":" .. pending[2]
  local version = ',"version":' .. (versions[key] or "null")  -- null: a new cell
  local body = '{"value":"' .. values[math.random(#values)] .. '","work_type":"' .. work_type .. '"' .. version .. "}"
  return wrk.format("PUT", "/api/v1/lessons/" .. pending[1] .. "/grades/" .. pending[2], nil, body)
end

function response(status, headers, body)
  if status == 200 then
    local version = string.match(body, '"version":%s*(%d+)')
    versions[pending[1] .. ":" .. pending[2]] = version
  end
end

function done(summary, latency, requests)
  local ok = summary.requests - summary.errors.status
  io.write(string.format("wrk: %d writes in %.2f s, %d not 2xx; p50 %.2f ms, p95 %.2f ms, %.0f saved writes/s\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, ok / (summary.duration / 1e6)))
end
