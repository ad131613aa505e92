"""Fake school websites on loopback, for the tests, the benchmark and the demo.

A small HTTP/1.1 server on asyncio: each site listens on its own port of 127.0.0.1 (so
each is its own host for the crawler's per-host limits), serves Russian pages built from
a scenario, logs every request and counts the most requests it had in flight at once.
Links "to the outside world" (the public services portal, the journal system, the
education office) point to a shared loopback "portal" site or to a port that refuses
connections: nothing here ever leaves the machine.

    server = SiteServer().start()
    server.add("school", "complete")
    server.url("school")            # "http://127.0.0.1:PORT/"
    server.stop()

The pages themselves, scenario by scenario, are in ``site_pages.py``.
"""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from blueprints.disclosure.site_pages import SCENARIOS, Resource, SiteContext, html_page, huge_chunks, pages_for

# The crawler refuses addresses that are not on the Internet unless its settings allow
# them: whoever crawls these sites passes ``Settings(allowed_networks=LOOPBACK_NETWORKS)``.
LOOPBACK_NETWORKS = ("127.0.0.0/8",)

# The demo's Kirovsk schools: their sites on fixed loopback ports (the demo tenants'
# website_url), each with its scenario and options. СОШ № 10 carries two false alarms that
# a person would dismiss: a document that answers 404 to HEAD only, and a current act
# flagged as outdated because its remark reads "изменено приказом".
DEMO_PORTS = {"СОШ № 2": 8101, "СОШ № 5": 8102, "СОШ № 7": 8103, "ООШ № 8": 8104, "СОШ № 10": 8105}
DEMO_PORTAL_PORT = 8106
# A demo school whose site is down: nothing listens on its port (a finding, never a crash).
DEMO_DOWN = {"Хибинская гимназия": 8107}


def demo_sites() -> dict[str, tuple[str, dict]]:
    """The demo schools' sites: short name -> (scenario, options)."""
    return {
        "СОШ № 2": ("complete", {"school": "СОШ № 2"}),
        "СОШ № 5": ("outdated", {"school": "СОШ № 5"}),
        "СОШ № 7": ("broken_links", {"school": "СОШ № 7"}),
        "ООШ № 8": ("no_microdata", {"school": "ООШ № 8", "kind": "ООШ"}),
        "СОШ № 10": ("partial", {"school": "СОШ № 10", "head_404": True, "false_outdated": True}),
    }


# --- the server -------------------------------------------------------------------------

_REASONS = {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 302: "Found", 404: "Not Found",
            405: "Method Not Allowed", 500: "Internal Server Error"}


@dataclass
class _Site:
    name: str
    scenario: str
    opts: dict
    port: int = 0
    routes: dict = field(default_factory=dict)
    server: asyncio.AbstractServer | None = None
    active: int = 0
    max_active: int = 0
    log: list = field(default_factory=list)   # (method, target, headers)


class SiteServer:
    """Many fake sites in one background thread with its own event loop.

    ``max_concurrent[name]`` is the most requests the site had in flight at once, and
    ``requests(name)`` its log of (method, path, headers), headers with lower-case names.
    """

    def __init__(self, host: str = "127.0.0.1", *, any_port: bool = False):
        self.host = host
        # With ``any_port``, a site whose port is taken listens on a free one instead.
        self.any_port = any_port
        self.sites: dict[str, _Site] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.refused_url = ""
        self.portal_url = ""

    # lifecycle ---------------------------------------------------------------------------

    def start(self, *, portal_port: int = 0, refused_port: int | None = None) -> "SiteServer":
        ready = threading.Event()

        def main():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

        self._thread = threading.Thread(target=main, name="fake-school-sites", daemon=True)
        self._thread.start()
        ready.wait()
        if refused_port and self.any_port and not _port_is_free(self.host, refused_port):
            refused_port = None
        self.refused_url = f"http://{self.host}:{refused_port or _free_port(self.host)}/"
        pending = [s for s in self.sites.values() if s.server is None]
        self._call(self._open(_Site("portal", "portal", {}, port=portal_port)))
        self.portal_url = self.url("portal")
        for site in pending:
            self._call(self._open(site))
        return self

    def stop(self) -> None:
        if self.loop is None:
            return

        async def close():
            for site in self.sites.values():
                if site.server is not None:
                    site.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        self._call(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # sites -------------------------------------------------------------------------------

    def add(self, name: str, scenario: str, *, port: int = 0, **opts) -> str:
        """Add a site (before or after ``start``) and return its base URL once started."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}")
        site = _Site(name, scenario, opts, port=port)
        self.sites[name] = site
        if self.loop is not None:
            self._call(self._open(site))
            return self.url(name)
        return ""

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.sites[name].port}/"

    @property
    def max_concurrent(self) -> dict[str, int]:
        return {name: site.max_active for name, site in self.sites.items()}

    def requests(self, name: str) -> list[tuple[str, str, dict]]:
        return list(self.sites[name].log)

    def reset_stats(self) -> None:
        for site in self.sites.values():
            site.max_active = 0
            site.log.clear()

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    async def _open(self, site: _Site) -> None:
        def serve(reader, writer):
            return self._serve(site, reader, writer)

        try:
            site.server = await asyncio.start_server(serve, self.host, site.port, backlog=512, reuse_address=True)
        except OSError:
            if not (site.port and self.any_port):
                raise
            # The wanted port is someone else's: any free one will do, the caller reads ``url``.
            site.server = await asyncio.start_server(serve, self.host, 0, backlog=512, reuse_address=True)
        site.port = site.server.sockets[0].getsockname()[1]
        self.sites[site.name] = site
        ctx = SiteContext(site.name, self.url(site.name), self.portal_url, self.refused_url, site.opts)
        site.routes = pages_for(site.scenario, ctx)

    # HTTP --------------------------------------------------------------------------------

    async def _serve(self, site: _Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, _version = lines[0].split(" ", 2)
                except ValueError:
                    return
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(length)
                site.log.append((method, target, headers))
                site.active += 1
                site.max_active = max(site.max_active, site.active)
                flight = _Flight(site)
                try:
                    keep = await self._respond(site, method, urlsplit(target).path or "/", reader, writer, flight)
                finally:
                    flight.done()
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _respond(self, site, method, path, reader, writer, flight) -> bool:
        resource = site.routes.get(path)
        if resource is None and site.scenario == "portal":
            resource = Resource(body=html_page("Портал", f"<h1>Портал</h1><p>{path}</p>"))
        if resource is None:
            resource = Resource(status=404, body=html_page("Страница не найдена", "<h1>404: страница не найдена</h1>"))
        if resource.hang:
            await reader.read()
            return False
        delay = resource.delay or float(site.opts.get("latency", 0))
        if delay:
            try:
                if await asyncio.wait_for(reader.read(1), delay) == b"":
                    return False     # the client gave up
            except asyncio.TimeoutError:
                pass
        status = resource.head_status if method == "HEAD" and resource.head_status else resource.status
        length = resource.stream_bytes or len(resource.body)
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", f"Content-Length: {length}",
                "Server: tabel-fake-sites", "Connection: keep-alive"]
        if resource.content_type:
            head.append(f"Content-Type: {resource.content_type}")
        head += [f"{key}: {value}" for key, value in resource.headers.items()]
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if method == "HEAD":
            writer.write(data)
            flight.done()
            await writer.drain()
            return True
        if not resource.stream_bytes:
            writer.write(data + resource.body)
            flight.done()
            await writer.drain()
            return True
        writer.write(data)
        for chunk in huge_chunks(resource.stream_bytes):
            if reader.at_eof() or writer.is_closing():
                return False
            writer.write(chunk)
            await writer.drain()
        flight.done()
        return True


class _Flight:
    """One request in flight; ``done`` is called as soon as the last byte is handed to the
    socket, so that the count never includes a request the client already has in full."""

    def __init__(self, site: _Site):
        self.site = site
        self.open = True

    def done(self) -> None:
        if self.open:
            self.open = False
            self.site.active -= 1


def _free_port(host: str) -> int:
    """A port that nothing listens on (bound, then released): connections to it are refused."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def start_demo(host: str = "127.0.0.1", base_port: int = 8101) -> tuple[SiteServer, dict[str, str]]:
    """Start the demo schools' sites on ports ``base_port`` + i (``DEMO_PORTS``), the portal
    on the port after them, and leave the next one unanswered (the school whose site is
    down, ``DEMO_DOWN``). A port that something else holds is swapped for a free one, so
    the answer names where each school's site really is: short name -> base URL."""
    server = SiteServer(host, any_port=True)
    for i, (name, (scenario, opts)) in enumerate(demo_sites().items()):
        server.add(name, scenario, port=base_port + i, **opts)
    server.start(portal_port=base_port + len(DEMO_PORTS), refused_port=base_port + len(DEMO_PORTS) + 1)
    urls = {name: server.url(name) for name in DEMO_PORTS}
    urls.update({name: server.refused_url for name in DEMO_DOWN})
    return server, urls


def serve_forever(server: SiteServer) -> None:
    """Keep ``server`` serving until interrupted."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
