"""The limits of a crawl (``Settings``): depth, pages, bytes, time, politeness, and the
networks besides the Internet that may be read.

They come from the regulation's ``disclosure`` section (``from_regulation``), except
``allowed_networks``: that is the deployment's ``DISCLOSURE_ALLOWED_NETWORKS``, never a
regulation's (see ``addresses.py``). The checks they bound are WD-1..WD-4.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from blueprints.disclosure.addresses import parse_networks


@dataclass
class Settings:
    max_depth: int = 2            # link hops from the start page inside the same site
    max_pages: int = 30           # pages fetched and parsed per site
    timeout: float = 10.0         # seconds per request (connect + read, total)
    per_host_concurrency: int = 2  # simultaneous requests to one host (netloc)
    delay: float = 0.0            # seconds between the starts of two requests to one host
    max_bytes: int = 2_000_000    # body read cap (after decompression); bigger pages are cut and reported
    max_redirects: int = 5
    check_links: bool = True
    user_agent: str = "TabelDisclosureCheck/1.0 (+website-disclosure checks of school sites)"
    respect_robots: bool = True
    max_links: int = 500          # links checked per site; the rest are counted, not checked
    site_seconds: float = 120.0   # the whole check of one site; past it the site keeps what was found
    # CIDRs that may be crawled although not globally routable (loopback for the fake sites
    # of the tests and the demo). Deployment configuration: never read from a regulation.
    allowed_networks: tuple[str, ...] = ()

    _ALIASES = {"timeout_seconds": "timeout", "delay_seconds": "delay"}
    _NOT_FROM_REGULATION = ("allowed_networks",)

    def __post_init__(self):
        if isinstance(self.allowed_networks, str):
            self.allowed_networks = (self.allowed_networks,)
        self.allowed_networks = tuple(str(n).strip() for n in self.allowed_networks)
        parse_networks(self.allowed_networks)  # a bad CIDR is a configuration error: raise now

    @classmethod
    def from_regulation(cls, section: dict, *, allowed_networks=()) -> "Settings":
        """Settings from the regulation's ``disclosure`` section; unknown keys are ignored.
        ``allowed_networks`` comes from the deployment, never from the regulation (whoever
        edits a regulation must not open the internal network to the crawler)."""
        known = {f.name: f for f in fields(cls)}
        values = {}
        for key, value in (section or {}).items():
            name = cls._ALIASES.get(key, key)
            if name in known and name not in cls._NOT_FROM_REGULATION and value is not None:
                default = known[name].default
                values[name] = type(default)(value) if not isinstance(default, bool) else bool(value)
        return cls(**values, allowed_networks=tuple(allowed_networks or ()))
