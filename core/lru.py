"""A small least-recently-used map for what a worker keeps (the journal's grids, the
diary's answers), safe across its threads."""
import collections
import threading


class Lru:
    """A small least-recently-used map, safe across a worker's threads."""

    def __init__(self):
        self._items = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value, limit):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > limit:
                self._items.popitem(last=False)

