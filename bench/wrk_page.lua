-- wrk script: GET the journal page with the teacher's token; prints p50/p95 and the rate.
--   WRK_TOKEN=... wrk -t2 -c8 -d10s -s bench/wrk_page.lua http://127.0.0.1:8791/classes/1/journal?...
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")

function done(summary, latency, requests)
  io.write(string.format("wrk: %d requests in %.2f s, %d not 2xx; p50 %.2f ms, p95 %.2f ms, %.0f requests/s\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.requests / (summary.duration / 1e6)))
end
