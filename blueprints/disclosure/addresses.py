"""Which addresses the crawler may request, and what one school site is.

A school's admin writes the start address and any site may redirect anywhere, so the
checks of WD-1..WD-4 are only as safe as this module: before every request (robots.txt,
pages, link checks, each redirect hop) the host's addresses are resolved (``resolve``) and
only globally routable ones, or those in the deployment's ``DISCLOSURE_ALLOWED_NETWORKS``
(``Settings.allowed_networks``), may be requested (``refused_address``). An IPv6 address
that carries an IPv4 one (mapped, 6to4, Teredo, NAT64) is judged by what it carries.

Also here: the start address as a school's admin writes it (``start_url``), and the
identity of a site (``site_key``: host without "www.", and port), which decides what is
crawled and which links are external (WD-2).
"""
from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
from urllib.parse import urldefrag, urlsplit


@functools.lru_cache(maxsize=64)
def parse_networks(cidrs: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _embedded_ipv4(ip) -> list:
    """The IPv4 addresses an IPv6 address carries to a v4 host (mapped, 6to4, Teredo, NAT64)."""
    if ip.version != 6:
        return []
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    found = []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refused_address(addresses, allowed_networks: tuple[str, ...] = ()) -> str | None:
    """The first of ``addresses`` that may not be crawled, or None when all may: an address
    may be crawled when it is globally routable or lies in one of ``allowed_networks``
    (an IPv4-mapped IPv6 address counts as its IPv4 address)."""
    networks = parse_networks(tuple(allowed_networks))
    for address in addresses:
        try:
            ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        except ValueError:
            return str(address)
        embedded = _embedded_ipv4(ip)
        candidates = [ip.ipv4_mapped] if ip.version == 6 and ip.ipv4_mapped is not None else [ip, *embedded]
        for candidate in candidates:
            if any(candidate.version == n.version and candidate in n for n in networks):
                continue
            if not candidate.is_global or candidate.is_multicast or candidate.is_reserved:
                return str(address)
    return None


async def resolve(host: str, port: int, timeout: float) -> tuple[str | None, list[str]]:
    """(error, the addresses ``host`` resolves to); error "dns" when the name resolves to
    nothing, "timeout" when the resolver is silent."""
    try:
        async with asyncio.timeout(timeout):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        return "timeout", []
    except (OSError, UnicodeError, ValueError):
        return "dns", []
    addresses = sorted({str(info[4][0]) for info in infos})
    return (None, addresses) if addresses else ("dns", [])


_HOSTLIKE = re.compile(r"^(?:[\w-]+\.)+[\w-]+(?::\d+)?(?:/.*)?$")


def start_url(url: str | None) -> str | None:
    """The start URL, or None when it is no http(s) address; a bare host gets http://."""
    url = (url or "").strip()
    if url and "://" not in url and _HOSTLIKE.match(url):
        url = "http://" + url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c in url for c in " \t\r\n<>\"'"):
        return None
    return urldefrag(url)[0]


def site_key(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return host, parts.port or {"http": 80, "https": 443}.get(parts.scheme)
