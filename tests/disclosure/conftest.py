"""Fake school websites on loopback for the disclosure tests (no request leaves the machine)."""
import itertools

import pytest

from blueprints.disclosure.site_pages import SCENARIOS
from blueprints.disclosure.sites import SiteServer

# The slow page answers after 2 s: tests give the crawler a timeout well below that.
SCENARIO_OPTIONS = {"slow": {"delay": 2.0}}


@pytest.fixture(scope="session")
def sites_server():
    """A running ``SiteServer`` with one site per scenario, named by the scenario:
    ``sites_server.url("complete")`` is that site's base URL. Tests that read a site's
    request log or its concurrency counter add a site of their own (``make_site``)."""
    with SiteServer() as server:
        for scenario in SCENARIOS:
            if scenario != "portal":
                server.add(scenario, scenario, **SCENARIO_OPTIONS.get(scenario, {}))
        yield server


@pytest.fixture
def make_site(sites_server):
    """``make_site(scenario, **options)`` adds a fresh site and returns its name and URL."""
    counter = itertools.count()

    def make(scenario, **options):
        name = f"{scenario}-{id(counter)}-{next(counter)}"
        return name, sites_server.add(name, scenario, **{**SCENARIO_OPTIONS.get(scenario, {}), **options})

    return make
