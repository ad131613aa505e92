import pytest


@pytest.fixture(autouse=True)
def _on_a_school_day(school_day):
    """Every journal test runs on the same school day (tests/fixtures/clock.py, SCHOOL_DAY)."""
    return school_day
