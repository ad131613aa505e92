-- wrk script: GET one URL, with a bearer token when WRK_TOKEN is set; prints p50/p95 and the rate.
--   WRK_TOKEN=... wrk -t2 -c2 -d10s -s bench/wrk_get.lua http://127.0.0.1:8792/api/v1/pupils/1/diary?week=2026-W49
local token = os.getenv("WRK_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

function done(summary, latency, requests)
  io.write(string.format("%d requests in %.2f s, %d not 2xx; p50 %.2f ms, p95 %.2f ms, %.0f requests/s\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.requests / (summary.duration / 1e6)))
end
