-- wrk script: whole columns of grades (PUT /api/v1/lessons/{id}/grades), one connection per
-- thread (run with -t N -c N). Each thread owns its own lessons, so threads never collide;
-- a column saved before is saved again with the versions its last answer gave.
--   WRK_TOKEN=... WRK_LESSONS=1,2 WRK_PUPILS=3,4 WRK_THREADS=8 WRK_WORK_TYPE=ДЗ wrk -t8 -c8 -d10s -s bench/wrk_columns.lua URL
require "bench.wrk_common"

function init(args)
  local all = split(os.getenv("WRK_LESSONS"))
  local count = tonumber(os.getenv("WRK_THREADS"))
  pupils, lessons, versions, next_lesson, values = split(os.getenv("WRK_PUPILS")), {}, {}, 0, {"2", "3", "4", "5"}
  for n, lesson in ipairs(all) do
    if (n - 1) % count == index then table.insert(lessons, lesson) end
  end
  work_type = os.getenv("WRK_WORK_TYPE")
  grades = 0
  json_headers()
end

function request()
  next_lesson = next_lesson % #lessons + 1
  pending = lessons[next_lesson]
  local entries = {}
  for _, pupil in ipairs(pupils) do
    local version = versions[pending .. ":" .. pupil]
    table.insert(entries, '{"pupil_id":' .. pupil .. ',"value":"' .. values[math.random(#values)] ..
      '","work_type":"' .. work_type .. '","version":' .. (version or "null") .. "}")  -- null: a new cell
  end
  return wrk.format("PUT", "/api/v1/lessons/" .. pending .. "/grades", nil, '{"grades":[' .. table.concat(entries, ",") .. "]}")
end

function response(status, headers, body)
  if status == 200 then
    for pupil, version in string.gmatch(body, '"pupil_id":%s*(%d+).-"version":%s*(%d+)') do
      versions[pending .. ":" .. pupil] = version
    end
  end
end

function done(summary, latency, requests)
  local ok = summary.requests - summary.errors.status
  local per_column = #split(os.getenv("WRK_PUPILS"))
  io.write(string.format("wrk: %d columns of %d in %.2f s, %d not 2xx; p50 %.2f ms, p95 %.2f ms, %.0f saved grades/s\n",
    summary.requests, per_column, summary.duration / 1e6, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, ok * per_column / (summary.duration / 1e6)))
end
