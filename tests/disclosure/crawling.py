"""Crawling the fake school sites in tests: the default checklist, settings that allow
loopback with a short timeout, and readers of a site's report."""
import asyncio

from blueprints.disclosure import checks, crawler
from blueprints.disclosure.settings import Settings
from blueprints.disclosure.sites import LOOPBACK_NETWORKS

ITEMS = [checks.Item.from_dict(d) for d in checks.default_checklist()]
LOOPBACK = LOOPBACK_NETWORKS  # the fake sites; by default the crawler refuses what is not on the Internet
FAST = Settings(timeout=0.5, allowed_networks=LOOPBACK)


def check(url, settings=FAST, items=ITEMS):
    return asyncio.run(crawler.check_site(url, items, settings))


def by_kind(report, kind):
    return {f.key: f for f in report.findings if f.kind == kind}


def faults(report):
    return [(f.kind, f.key, f.status) for f in report.findings if not f.ok]
