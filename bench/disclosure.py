"""Benchmark: website checks of many schools by one worker, against plain GETs of the same
URLs measured in the same run.

    .venv/bin/python bench/disclosure.py [--schools 300] [--links 30] [--concurrency 2] [--latency 0.002]

Serves ``--schools`` fake school sites with ``--links`` distinct links each on loopback (a
separate process, so that the server does not share the worker's interpreter), each site
on its own port and so its own host, all linking to one shared "portal" host. Then (1) runs
``crawler.run`` over all of them with ``per_host_concurrency=--concurrency``, and (2) sends
plain httpx GETs, with no parsing, robots.txt or per-host limit, to every URL the crawler
requested. Prints the seconds, pages and links per second, the most simultaneous requests
per host seen by the worker and by the servers, and the ratio to the baseline.
Target: 300 schools x 30 links in 60 s or less.
"""
import argparse
import asyncio
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from blueprints.disclosure import checks, crawler, transport  # noqa: E402
from blueprints.disclosure.settings import Settings  # noqa: E402
from blueprints.disclosure.sites import LOOPBACK_NETWORKS  # noqa: E402


def serve(conn, schools, links, latency):
    """The child process: start the sites, send their URLs, answer "stats" and "stop"."""
    from blueprints.disclosure.sites import SiteServer

    server = SiteServer().start()
    urls = [server.add(f"school-{n}", "complete", links=links, latency=latency, school=f"СОШ № {n + 1}")
            for n in range(schools)]
    conn.send(urls)
    while True:
        command = conn.recv()
        if command == "stats":
            conn.send((server.max_concurrent, sum(len(site.log) for site in server.sites.values())))
        else:
            server.stop()
            conn.send(True)
            return


async def baseline(urls, concurrency, pool_per_host):
    """Plain GETs of ``urls``: bodies read, nothing parsed, ``concurrency`` in flight; one
    httpx pool for all hosts (httpx's default), or one per host as the crawler does."""
    gate = asyncio.Semaphore(concurrency)
    options = ({"transport": transport.PerHostTransport(2)} if pool_per_host else
               {"limits": httpx.Limits(max_connections=None, max_keepalive_connections=concurrency)})
    async with httpx.AsyncClient(follow_redirects=True, timeout=10, **options) as client:
        async def get(url):
            async with gate:
                try:
                    response = await client.get(url)
                    return response.status_code
                except httpx.HTTPError:
                    return None

        return await asyncio.gather(*(get(url) for url in urls))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--links", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=2, help="per_host_concurrency")
    parser.add_argument("--sites-at-once", type=int, default=20, help="check_sites(concurrency=...)")
    parser.add_argument("--latency", type=float, default=0.002, help="server think time per request, seconds")
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=serve, args=(theirs, args.schools, args.links, args.latency), daemon=True)
    child.start()
    try:
        urls = ours.recv()
        items = [checks.Item.from_dict(d) for d in checks.default_checklist()]
        settings = Settings(per_host_concurrency=args.concurrency, allowed_networks=LOOPBACK_NETWORKS)
        limiter = transport.HostLimiter(settings.per_host_concurrency, settings.delay)

        started = time.perf_counter()
        reports = crawler.run({n: (url, items) for n, url in enumerate(urls)}, settings,
                              concurrency=args.sites_at_once, limiter=limiter)
        elapsed = time.perf_counter() - started
        ours.send("stats")
        served, requests = ours.recv()

        requested = [p["url"] for r in reports.values() for p in r.pages]
        requested += [f.url for r in reports.values() for f in r.findings if f.kind == "link" and f.url
                      and f.url not in {p["url"] for p in r.pages}]
        plain = {}
        for pool_per_host in (False, True):
            started = time.perf_counter()
            statuses = asyncio.run(baseline(requested, args.sites_at_once * args.concurrency, pool_per_host))
            plain[pool_per_host] = time.perf_counter() - started
        assert all(status == 200 for status in statuses)
    finally:
        ours.send("stop")
        ours.recv()
        child.join(10)

    pages = sum(r.pages_fetched for r in reports.values())
    links = sum(r.links_checked for r in reports.values())
    failed = [n for n, r in reports.items() if r.error or any(not f.ok for f in r.findings)]
    scores = sorted(checks.score(r) for r in reports.values())
    print(f"{args.schools} schools x {args.links} links on loopback, per_host_concurrency={args.concurrency}, "
          f"{args.sites_at_once} sites at once, server latency {args.latency * 1000:.0f} ms")
    base = plain[True]
    print(f"{'what':<50}{'seconds':>9}{'requests':>10}{'req/s':>9}{'x baseline':>12}")
    for label, seconds, count in (
            ("plain GETs, pool per host (baseline)", base, len(requested)),
            ("plain GETs, one httpx pool for all hosts", plain[False], len(requested)),
            ("crawler.run (robots, limits, parse, findings)", elapsed, requests)):
        print(f"{label:<50}{seconds:>9.2f}{count:>10}{count / seconds:>9.0f}{seconds / base:>12.2f}")
    print(f"pages fetched {pages} ({pages / elapsed:.0f}/s), links checked {links} ({links / elapsed:.0f}/s), "
          f"sites with a fault {len(failed)}, scores {scores[0]}..{scores[-1]}")
    print(f"most simultaneous requests to one host: worker {max(limiter.max_seen.values())}, "
          f"servers {max(served.values())} (limit {args.concurrency})")
    print(f"target <= 60 s: {'met' if elapsed <= 60 else 'MISSED'}")
    if max(served.values()) > args.concurrency or max(limiter.max_seen.values()) > args.concurrency:
        sys.exit("a host received more than the configured concurrency")


if __name__ == "__main__":
    main()
