"""The app's one reading of the wall clock. ``now()`` is aware UTC; ``use(clock)`` puts any
callable answering an aware datetime in its place, ``fixed(moment)`` one standing still, or
with ``tick=True`` running on from ``moment`` at the real pace (tests, replays)."""
import contextlib
import datetime as dt
import time

_clock = None  # None: the real time


def now() -> dt.datetime:
    return _clock() if _clock else dt.datetime.now(dt.timezone.utc)


def today(zone: dt.tzinfo | None = None) -> dt.date:
    """The date in ``zone``; by default the machine's local zone, as ``date.today()``."""
    return now().astimezone(zone).date()


class Fixed:
    """A clock at ``moment`` (and, ticking, on from it as real time passes); ``advance``
    moves it on, as if that much time had gone by."""

    def __init__(self, moment: dt.datetime, tick=False):
        self.moment, self.started = moment, time.monotonic() if tick else None

    def __call__(self) -> dt.datetime:
        run = time.monotonic() - self.started if self.started is not None else 0
        return self.moment + dt.timedelta(seconds=run)

    def advance(self, seconds: float = 0, **delta):
        self.moment += dt.timedelta(seconds=seconds, **delta)


@contextlib.contextmanager
def use(clock):
    global _clock
    before, _clock = _clock, clock
    try:
        yield clock
    finally:
        _clock = before


def fixed(moment: dt.datetime, tick=False):
    """``with clock.fixed(moment) as c: ... c.advance(minutes=5)``"""
    return use(Fixed(moment, tick))
