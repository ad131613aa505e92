"""The crawl of a school's website for the disclosure checks (WD-1..WD-4), and the entry
points that check one site or many (``check_site``, ``check_sites``, ``run``).

From a school's start page it fetches the pages of the same site (bounded by depth and
count, the likely pages first), checks its links, then reports as findings: each checklist
item found or missing (WD-1, WD-4), each link's status (WD-2), documents replaced without
the "утратил силу" mark (``checks.outdated_findings``), and the microdata of the section
"Сведения об образовательной организации". Whatever a site does (an invalid address, 500,
silence, a 50 MB page, windows-1251), the result is a finding, never an exception.

Plain asyncio, httpx and selectolax: no database and no Flask here. The parts: which
addresses may be read (``addresses.py``), the requests and their politeness
(``transport.py``), the pages (``parsing.py``), the checklist, findings and score
(``checks.py``), the limits (``settings.py``). A site has ``site_seconds`` in all; a page's
body is dropped once parsed; the parse and the checklist's regexes run off the event loop.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import heapq
import logging
import time
from typing import Callable
from urllib.parse import urlsplit

import httpx

from blueprints.disclosure.addresses import site_key, start_url
from blueprints.disclosure.checks import (Finding, Item, SiteReport, item_findings, link_findings, microdata_findings,
                                          outdated_findings, page_hits)
from blueprints.disclosure.parsing import DOC_EXT, Link, Page, decode, parse_page
from blueprints.disclosure.settings import Settings
from blueprints.disclosure.transport import Fetcher, HostLimiter, Response, make_client

log = logging.getLogger("tabel.disclosure")


def _digest(url: str, body: bytes, content_type: str, depth: int, items: list[Item], *,
            rank: bool = True) -> Page:
    """Decode and parse a page, then match the checklist (regexes a regulation's editor
    writes) against it and, when ``rank``, rank its links for the crawl: the CPU-heavy
    part of a page, run off the event loop. ``items`` are those still to be found (an
    earlier page's match wins anyway). A page the parser cannot read is a page without
    content."""
    text, encoding = decode(body, content_type)
    del body
    try:
        page = parse_page(url, text, depth, encoding)
    except Exception:  # noqa: BLE001
        log.warning("cannot parse %s", url, exc_info=True)
        return Page(url, depth, encoding, [], [], {})
    page.hits = page_hits(page, items, rank=rank)
    return page


class _SiteCheck:
    """One site's check: the crawl from the start page, the link checks, and the findings
    they end in. Requests go through ``fetcher``."""

    def __init__(self, url: str, items: list[Item], settings: Settings, client: httpx.AsyncClient,
                 limiter: HostLimiter):
        self.url = url
        self.items = [item if isinstance(item, Item) else Item.from_dict(item) for item in items]
        self.settings = settings
        self.limiter = limiter
        self.fetcher = Fetcher(settings, client, limiter)
        self.started = time.perf_counter()
        self.findings: list[Finding] = []
        self.pages: list[Page] = []
        self.page_info: list[dict] = []
        self.fetched: dict[str, Response] = {}    # crawled URL -> response
        self.links: dict[str, Link] = {}           # every distinct link, first occurrence
        self.fetches = 0
        self.parsed: set[str] = set()
        self.checked: dict[str, Response | None] = {}
        self.site: set = set()                      # the site's (host, port) keys, once the start page answered

    async def run(self) -> SiteReport:
        start = start_url(self.url)
        if start is None:
            return self._failed("invalid_url", "invalid_url", url=self.url or None)
        deadline = asyncio.timeout(self.settings.site_seconds)
        try:
            async with deadline:
                failed = await self._visit(start)
        except TimeoutError:
            if not deadline.expired():
                raise
            failed = None
            if not self.site:  # the start page did not answer in time: nothing to report but that
                return self._failed("deadline", "deadline", url=start,
                                    detail={"seconds": self.settings.site_seconds})
        if failed is not None:
            return failed
        self.findings[:0] = item_findings(self.items, self.pages)
        self.findings.extend(link_findings(self.links, self.fetched, self.checked, self.site))
        self.findings.extend(outdated_findings(self.links))
        self.findings.extend(microdata_findings(self.pages))
        if deadline.expired():  # what was found so far, and why there is no more
            self.findings.append(Finding("site", "deadline", "deadline", False, url=start,
                                         detail={"seconds": self.settings.site_seconds}))
        return self._report()

    async def _visit(self, start: str) -> SiteReport | None:
        """Fetch the start page, crawl, check the links; a report when the site fails early."""
        if not await self.fetcher.allowed(start):
            return self._failed("robots_disallowed", "robots_disallowed", url=start)
        response = await self.fetch_page(start, depth=0)
        if response.error == "blocked_address":
            detail = {"address": response.address}
            if response.redirects:
                detail["redirects"] = response.redirects
            return self._failed("blocked_address", "blocked_address", url=start, detail=detail)
        if response.error:
            status = {"timeout": "timeout", "invalid_url": "invalid_url"}.get(response.error, "error")
            # One key for every failure to connect (the finding's identity across runs);
            # the detail's "error" says which (refused, dns, connect).
            key = {"connect": "unreachable", "refused": "unreachable", "dns": "unreachable",
                   "tls": "tls"}.get(response.error, response.error)
            return self._failed(status, key, url=start, response=response)
        if response.status_code >= 400:
            return self._failed("http_error", "http_error", url=start, response=response)
        self.site = {site_key(start), site_key(response.final_url)}
        await self.crawl(start)
        if self.settings.check_links:
            await self.check_links()
        return None

    async def fetch_page(self, url: str, depth: int) -> Response:
        """Fetch, decode and parse one page (the parse and the checklist's patterns off the
        event loop); the body is not kept past that."""
        self.fetches += 1
        response = await self.fetcher.request(url, cap=self.settings.max_bytes, html_only=True)
        self.fetched[url] = response
        body, html = response.body, response.is_html
        response.body = b""
        if response.error or response.status_code >= 400 or response.final_url in self.parsed:
            return response
        self.parsed.add(response.final_url)
        info = {"url": response.final_url, "status_code": response.status_code, "depth": depth,
                "bytes": response.size, "truncated": response.truncated, "encoding": None}
        self.page_info.append(info)
        if response.truncated:
            code = "too_large" if depth == 0 else f"too_large:{response.final_url}"
            self.findings.append(Finding(
                "site", code, "too_large", False, url=response.final_url,
                detail={"bytes_read": response.size, "limit": self.settings.max_bytes,
                        "content_length": response.content_length}))
        if html and body:
            found = {key for page in self.pages for key in page.hits}
            page = await asyncio.to_thread(_digest, response.final_url, body, response.content_type, depth,
                                           [item for item in self.items if item.key not in found],
                                           rank=depth < self.settings.max_depth)
            info["encoding"] = page.encoding
            self.pages.append(page)
        return response

    async def crawl(self, start: str) -> None:
        queued = {start} | {self.fetched[start].final_url}
        heap: list = []
        order = 0
        parsed = 0

        def enqueue(page: Page) -> None:
            nonlocal order
            for link in page.links:
                self.links.setdefault(link.url, link)
                if (page.depth < self.settings.max_depth and link.url not in queued
                        and site_key(link.url) in self.site and not DOC_EXT.search(urlsplit(link.url).path)):
                    queued.add(link.url)
                    order += 1
                    heapq.heappush(heap, (-link.priority, page.depth + 1, order, link.url))

        while True:
            while parsed < len(self.pages):
                enqueue(self.pages[parsed])
                parsed += 1
            if not heap or self.fetches >= self.settings.max_pages:
                break
            batch = []
            while heap and len(batch) < min(self.settings.per_host_concurrency,
                                            self.settings.max_pages - self.fetches):
                _, depth, _, url = heapq.heappop(heap)
                if url not in self.parsed and await self.fetcher.allowed(url):
                    batch.append((url, depth))
            await asyncio.gather(*(self.fetch_page(url, depth) for url, depth in batch))
            for url, _depth in batch:
                queued.add(self.fetched[url].final_url)

    async def check_links(self) -> None:
        pending = [url for url in self.links if url not in self.fetched][:self.settings.max_links]

        async def one(url):  # recorded as each answers, so that a deadline keeps what was checked
            self.checked[url] = await self.check_link(url)

        await asyncio.gather(*(one(url) for url in pending))

    async def check_link(self, url: str) -> Response | None:
        """Documents by HEAD (GET of the first bytes when HEAD is refused), pages by GET of
        their first bytes, read and dropped; None when robots.txt forbids it. An external
        link is checked once per run, however many schools link to it; past
        ``HostLimiter.MAX_TIMEOUTS`` timeouts on a host its remaining links are not requested."""
        if site_key(url) not in self.site:
            return await self.limiter.once("link " + url, lambda: self._check_link(url))
        return await self._check_link(url)

    async def _check_link(self, url: str) -> Response | None:
        if not await self.fetcher.allowed(url):
            return None
        if DOC_EXT.search(urlsplit(url).path):
            response = await self.fetcher.request(url, method="HEAD", skip_dead=True)
            if response.status_code in (405, 501) and not response.error:
                response = await self.fetcher.request(url, headers={"Range": "bytes=0-1023"}, html_only=True,
                                                      keep=False, skip_dead=True)
            else:
                response.method = "HEAD"
            return response
        return await self.fetcher.request(url, html_only=True, keep=False, skip_dead=True)

    def _failed(self, status: str, key: str, *, url: str | None, response: Response | None = None,
                detail: dict | None = None) -> SiteReport:
        detail = dict(detail or {})
        if response is not None:
            detail = {"status_code": response.status_code, "elapsed_ms": response.elapsed_ms}
            if response.redirects:
                detail["redirects"] = response.redirects
            if response.error:
                detail["error"] = response.error
        self.findings = [Finding("site", key, status, False, url=url, detail=detail)]
        return self._report(error=status)

    def _report(self, error: str | None = None) -> SiteReport:
        return SiteReport(
            start_url=self.url, findings=self.findings, pages_fetched=self.fetches,
            links_checked=sum(1 for f in self.findings if f.kind == "link"),
            elapsed_ms=int((time.perf_counter() - self.started) * 1000), error=error,
            pages=self.page_info, links_found=len(self.links))


# --- entry points -----------------------------------------------------------------------

async def check_site(url: str, items: list[Item], settings: Settings, *,
                     client: httpx.AsyncClient | None = None, limiter: HostLimiter | None = None) -> SiteReport:
    """Check one site; never raises (a crawler fault becomes a "site" finding "error")."""
    own_client = client is None
    if own_client:
        client = make_client(settings)
    limiter = limiter or HostLimiter(settings.per_host_concurrency, settings.delay)
    check = _SiteCheck(url, items, settings, client, limiter)
    try:
        return await check.run()
    except Exception as exc:
        log.exception("website check of %s failed", url)
        check.findings = [Finding("site", "crawler_error", "error", False, url=url,
                                  detail={"error": type(exc).__name__})]
        return check._report(error="error")
    finally:
        if own_client:
            await client.aclose()


async def check_sites(sites: dict[int, tuple[str, list[Item]]], settings: Settings, *,
                      progress: Callable[[int, int], None] | None = None,
                      concurrency: int = 20, limiter: HostLimiter | None = None) -> dict[int, SiteReport]:
    """Check many sites in one event loop, ``concurrency`` at a time, sharing one client and
    one per-host limiter; ``progress(done, total)`` after each site."""
    limiter = limiter or HostLimiter(settings.per_host_concurrency, settings.delay)
    gate = asyncio.Semaphore(max(1, concurrency))
    reports: dict[int, SiteReport] = {}
    total, done = len(sites), 0
    async with make_client(settings) as client:
        async def one(site_id, url, items):
            nonlocal done
            async with gate:
                reports[site_id] = await check_site(url, items, settings, client=client, limiter=limiter)
            done += 1
            if progress is not None:
                progress(done, total)

        await asyncio.gather(*(one(site_id, url, items) for site_id, (url, items) in sites.items()))
    return {site_id: reports[site_id] for site_id in sites}


def run(sites: dict[int, tuple[str, list[Item]]], settings: Settings,
        progress: Callable[[int, int], None] | None = None, **options) -> dict[int, SiteReport]:
    """``check_sites`` from synchronous code (a worker, eager mode, any thread); inside a
    running event loop it runs on a helper thread. ``options`` go to ``check_sites``."""
    work = functools.partial(check_sites, sites, settings, progress=progress, **options)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()
