"""Who a bearer token acts for, remembered for a few seconds.

Every authenticated request used to open a session and read the token and the
user (~0.25 ms and two thread hand-offs of a ~1 ms debit). Entries are keyed by
the token's SHA-256 digest, as the database keys them, so no plaintext token is
kept; a changed role or permission is seen within the TTL (a purchase checks
permission afresh in its workflow anyway).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_ENTRIES = 10_000


class TtlCache(Generic[T]):
    """A small thread-safe map whose entries expire ``ttl`` seconds after they were loaded."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def put(self, key: str, value: T) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:  # bounded: drop what has expired, else all
                now = self._clock()
                live = {k: e for k, e in self._entries.items() if e[0] > now}
                self._entries = live if len(live) < MAX_ENTRIES else {}
            self._entries[key] = (self._clock() + self.ttl, value)
