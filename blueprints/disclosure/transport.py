"""The HTTP side of a crawl: per-host politeness, one connection pool per host, requests
with redirects followed by hand, robots.txt, and bodies read within a cap.

``HostLimiter`` is shared by every site of a run: at most ``per_host_concurrency``
requests in flight per host, ``delay`` (or the host's Crawl-delay) between their starts,
and what a run asks a host only once. ``Fetcher`` makes one request at a time as the
checks need it and never raises: each redirect hop is checked against ``addresses.py``
before it is requested, chains and loops are reported (WD-2), ``timeout`` bounds a
request and ``max_bytes`` a body after decompression (a gzip bomb inflates no further
than the cap). The answer is a ``Response``; its body is the caller's to drop.
"""
from __future__ import annotations

import asyncio
import time
import zlib
from collections import defaultdict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from blueprints.disclosure.addresses import refused_address, resolve
from blueprints.disclosure.parsing import decode
from blueprints.disclosure.settings import Settings


class HostLimiter:
    """Per-host politeness shared by every site of a run: at most ``per_host_concurrency``
    requests in flight to one netloc, their starts spaced by ``delay`` seconds (or the
    host's robots.txt Crawl-delay, if longer, up to 10 s), and what a run needs to ask a
    host only once (its robots.txt; the status of an external link that many schools
    share, such as the public services portal).

    ``max_seen`` holds the highest number of simultaneous requests observed per host;
    ``timeouts`` the number of requests to a host that timed out (past ``MAX_TIMEOUTS``
    the host's remaining links are not checked). ``clock`` and ``sleep`` default to the
    monotonic clock and ``asyncio.sleep``; tests pass a virtual clock.
    """

    MAX_CRAWL_DELAY = 10.0
    MAX_TIMEOUTS = 5

    def __init__(self, per_host_concurrency: int = 2, delay: float = 0.0, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable = asyncio.sleep):
        self.clock, self.sleep = clock, sleep
        self.per_host_concurrency = max(1, int(per_host_concurrency))
        self.delay = max(0.0, float(delay))
        self.max_seen: dict[str, int] = {}
        self._active: dict[str, int] = defaultdict(int)
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._delays: dict[str, float] = {}
        self._once: dict[str, asyncio.Task] = {}
        self.timeouts: dict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def slot(self, host: str):
        semaphore = self._semaphores.get(host)
        if semaphore is None:
            semaphore = self._semaphores[host] = asyncio.Semaphore(self.per_host_concurrency)
        async with semaphore:
            delay = self._delays.get(host, self.delay)
            if delay:
                now = self.clock()
                start = max(now, self._next_start.get(host, 0.0))
                self._next_start[host] = start + delay
                if start > now:
                    await self.sleep(start - now)
            self._active[host] += 1
            if self._active[host] > self.max_seen.get(host, 0):
                self.max_seen[host] = self._active[host]
            try:
                yield
            finally:
                self._active[host] -= 1

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        self._delays[host] = max(self.delay, min(float(seconds), self.MAX_CRAWL_DELAY))

    async def once(self, key: str, make: Callable):
        """The result of ``await make()``, computed once per ``key`` in this run."""
        task = self._once.get(key)
        if task is None:
            task = self._once[key] = asyncio.ensure_future(make())
        return await asyncio.shield(task)


# --- HTTP -------------------------------------------------------------------------------

@dataclass
class Response:
    url: str
    final_url: str
    status_code: int | None = None
    content_type: str = ""
    body: bytes = b""            # dropped once parsed; never kept for a link check
    size: int = 0                # bytes of the (decompressed) body read
    truncated: bool = False
    content_length: int | None = None
    redirects: list[str] = field(default_factory=list)
    elapsed_ms: int = 0
    method: str = "GET"
    # timeout | connect | tls | protocol | invalid_url | redirect_loop | too_many_redirects | blocked_address
    error: str | None = None
    address: str | None = None   # the refused address, with error "blocked_address"
    skipped: bool = False        # not requested: the host had timed out too often

    @property
    def is_html(self) -> bool:
        kind = self.content_type.split(";")[0].strip().lower()
        if kind:
            return kind in ("text/html", "application/xhtml+xml")
        return self.body.lstrip()[:1] == b"<"


_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_SMALL_READ = 65_536  # what a link check or a redirect reads, so that the connection can be reused


class PerHostTransport(httpx.AsyncBaseTransport):
    """A connection pool per host. One pool for hundreds of hosts spends its time scanning
    its connections on every request; a pool per host stays small, so that a run's cost
    grows with the number of requests, not with their square."""

    def __init__(self, per_host: int):
        self._limits = httpx.Limits(max_connections=None, max_keepalive_connections=per_host)
        self._ssl = httpx.create_ssl_context()  # built once: loading the CA bundle is slow
        self._pools: dict[tuple, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.scheme, request.url.host, request.url.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpx.AsyncHTTPTransport(verify=self._ssl, limits=self._limits)
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()


def make_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        headers={"User-Agent": settings.user_agent,
                 "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
                 "Accept-Language": "ru,en;q=0.5",
                 "Accept-Encoding": "gzip, deflate"},  # what ``_read`` inflates within the cap
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=False,
        transport=PerHostTransport(max(1, settings.per_host_concurrency)),
    )


def _netloc(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _classify(exc: Exception) -> str:
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return "invalid_url"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        return "tls" if "SSL" in text or "certificate" in text else _connect_failure(exc)
    return "protocol"


def _connect_failure(exc: BaseException) -> str:
    """Why a connection failed, from the errors beneath httpx's: "refused" (nothing
    listens), "dns" (the name does not resolve), "tls", else "connect" (no route, reset)."""
    import socket
    import ssl

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ConnectionRefusedError):
            return "refused"
        if isinstance(exc, socket.gaierror):
            return "dns"
        if isinstance(exc, ssl.SSLError):
            return "tls"
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return "connect"


class Fetcher:
    """Requests for the checks of one site, within the run's ``limiter`` and the site's
    ``settings``, on a shared ``client``."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient, limiter: HostLimiter):
        self.settings = settings
        self.client = client
        self.limiter = limiter

    async def request(self, url: str, *, method: str = "GET", cap: int = _SMALL_READ,
                      headers: dict | None = None, html_only: bool = False, keep: bool = True,
                      skip_dead: bool = False) -> Response:
        """One request with redirects followed by hand; never raises. Each hop's address
        is checked first (``_address``); ``keep`` False reads the body without keeping it;
        ``skip_dead`` answers "timeout" without a request when the host timed out too often."""
        result = Response(url=url, final_url=url)
        started = time.perf_counter()
        seen, current = {url}, url
        try:
            for _hop in range(self.settings.max_redirects + 1):
                location = await self._hop(result, current, method, cap, headers, html_only, keep, skip_dead)
                if location is None:
                    return result
                try:
                    target = urldefrag(urljoin(current, location))[0]
                except ValueError:  # a Location such as "http://[bad/"
                    result.error = "invalid_url"
                    return result
                result.redirects.append(target)
                if target in seen:
                    result.error = "redirect_loop"
                    return result
                seen.add(target)
                current = result.final_url = target
                if result.status_code == 303:
                    method = "GET"
            result.error = "too_many_redirects"
            return result
        finally:
            result.elapsed_ms = int((time.perf_counter() - started) * 1000)

    async def _hop(self, result, url, method, cap, headers, html_only, keep, skip_dead) -> str | None:
        error, address = await self._address(url)
        if error:
            result.error, result.address = error, address
            return None
        host = _netloc(url)
        async with self.limiter.slot(host):
            if skip_dead and self.limiter.timeouts[host] >= self.limiter.MAX_TIMEOUTS:
                result.error, result.skipped = "timeout", True
                return None
            try:
                async with asyncio.timeout(self.settings.timeout):
                    async with self.client.stream(method, url, headers=headers) as response:
                        result.status_code = response.status_code
                        result.content_type = response.headers.get("content-type", "")
                        location = response.headers.get("location")
                        if response.status_code in _REDIRECT_STATUSES and location:
                            await _read(response, _SMALL_READ, keep=False)
                            return location
                        try:
                            result.content_length = int(response.headers.get("content-length", ""))
                        except ValueError:
                            pass
                        if method == "HEAD" or (html_only and not result.is_html):
                            result.body, result.size, result.truncated = b"", 0, False
                        else:
                            result.body, result.size, result.truncated = await _read(response, cap, keep)
                        return None
            except TimeoutError:
                result.error = "timeout"
                self.limiter.timeouts[host] += 1
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                result.error = _classify(exc)
            except OSError as exc:
                result.error = _connect_failure(exc)
            except ValueError:
                result.error = "invalid_url"
            return None

    async def _address(self, url: str) -> tuple[str | None, str | None]:
        """(error, refused address) before a request to ``url``: every address its host
        resolves to must be globally routable or in ``Settings.allowed_networks``, else
        ("blocked_address", the address); a literal IP, in any form getaddrinfo reads
        (http://2130706433/, http://0x7f.1/, http://[::ffff:127.0.0.1]/), is checked the
        same way. The resolution is cached per host for the run. The checked address is not
        pinned: httpx resolves the host again to connect, so DNS rebinding between the two
        is not prevented here."""
        try:
            parsed = httpx.URL(url)
            host = parsed.raw_host.decode("ascii")
        except (httpx.InvalidURL, ValueError, UnicodeError):
            return "invalid_url", None
        if not host or parsed.scheme not in ("http", "https"):
            return "invalid_url", None
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        error, addresses = await self.limiter.once(
            "resolve " + host, lambda: resolve(host, port, self.settings.timeout))
        if error:
            return error, None
        address = refused_address(addresses, self.settings.allowed_networks)
        return ("blocked_address", address) if address else (None, None)

    async def allowed(self, url: str) -> bool:
        if not self.settings.respect_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        robots = await self.limiter.once("robots " + origin, lambda: self._load_robots(origin))
        return robots is None or robots.can_fetch(self.settings.user_agent, url)

    async def _load_robots(self, origin: str) -> RobotFileParser | None:
        """robots.txt of one origin: 401/403 forbid everything; other errors and 4xx/5xx
        allow everything (the pages' own errors are then reported as such)."""
        response = await self.request(origin + "/robots.txt", cap=512_000)
        if response.error or response.status_code is None:
            return None
        parser = RobotFileParser(origin + "/robots.txt")
        if response.status_code in (401, 403):
            parser.disallow_all = True
            return parser
        if response.status_code >= 400:
            return None
        text, _ = decode(response.body, response.content_type)
        parser.parse(text.splitlines())
        delay = parser.crawl_delay(self.settings.user_agent)
        if delay:
            self.limiter.set_crawl_delay(_netloc(origin), float(delay))
        return parser


async def _read(response: httpx.Response, cap: int, keep: bool = True) -> tuple[bytes, int, bool]:
    """At most ``cap`` bytes of the decompressed body (kept only when ``keep``), how many
    were read, and True when there was more. gzip and deflate are inflated here, never
    more than ``cap`` bytes at a time, so that a small compressed body that expands to
    gigabytes costs no more memory than ``cap``."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        chunks = _inflate(response.aiter_raw(), encoding, cap)
    else:  # identity (or an encoding we did not ask for: httpx's own decoder)
        chunks = response.aiter_bytes()
    buffer = bytearray()
    size = 0
    try:
        async for chunk in chunks:
            room = cap - size
            if len(chunk) > room:
                if keep:
                    buffer += chunk[:room]
                return bytes(buffer), cap, True
            size += len(chunk)
            if keep:
                buffer += chunk
        return bytes(buffer), size, False
    finally:
        await chunks.aclose()


async def _inflate(raw, encoding: str, cap: int):
    """The decompressed body in pieces of at most ``cap + 1`` bytes."""
    wbits = zlib.MAX_WBITS | 16 if "gzip" in encoding else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    first = True
    async for data in raw:
        if first and encoding == "deflate":  # "deflate" is zlib-wrapped by the RFC, raw by some servers
            first = False
            try:
                inflater.copy().decompress(data[:64])
            except zlib.error:
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            while True:
                piece = inflater.decompress(data, cap + 1)
                data = inflater.unconsumed_tail
                if piece:
                    yield piece
                if not data and len(piece) <= cap:  # input used up and no output left behind
                    break
        except zlib.error as exc:
            raise httpx.DecodingError(str(exc)) from None
        if inflater.eof:
            return
