"""Fixtures shared by every test, one file per domain in ``tests/fixtures/``.

The suite runs once per database: SQLite by default, PostgreSQL with
``TABEL_TEST_DATABASE=postgresql`` (a fresh database per run on 127.0.0.1:5432). With
``CI=true`` an unreachable PostgreSQL fails the run instead of skipping it.

The schema comes from the migrations (not ``create_all``), so every run also proves them.
Each test starts from empty tables; factories (``make_tenant``, ``make_user`` ...) return
callables, as in Indico's test fixtures.
"""
import pytest

# Before the imports below: the fixture modules' asserts are rewritten, as a conftest's are.
pytest.register_assert_rewrite("tests.fixtures")

# The names tests import from here; they live in the fixture modules.
from tests.fixtures.accounts import PASSWORD  # noqa: E402,F401
from tests.fixtures.app import SECRET, app_config  # noqa: E402,F401
from tests.fixtures.clock import SCHOOL_DAY  # noqa: E402,F401
from tests.fixtures.storage import STORAGE_ROOT  # noqa: E402,F401

# Autouse fixtures of one file set up in name order, and the files in this order: _clean
# (tests/fixtures/cleaning.py) before _own_storage (tests/fixtures/storage.py).
pytest_plugins = [
    "tests.fixtures.database",  # database_url, db_kind
    "tests.fixtures.app",  # app, client; app_config, SECRET
    "tests.fixtures.cleaning",  # _clean
    "tests.fixtures.storage",  # _storage_root, _own_storage, s3_server; STORAGE_ROOT
    "tests.fixtures.tenants",  # make_tenant, region_tree
    "tests.fixtures.accounts",  # make_user, add_role, ctx, as_platform; PASSWORD
    "tests.fixtures.auth",  # login, token, api
    "tests.fixtures.roster",  # make_roster
    "tests.fixtures.queries",  # count_queries, raw_sql
    "tests.fixtures.clock",  # school_day; SCHOOL_DAY
    "tests.fixtures.diary",  # family, week_lessons; WEEK
]
