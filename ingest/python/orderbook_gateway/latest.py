"""LatestWinsBuffer: the newest pending book of each symbol, nothing older.

Books are full snapshots, so while the Publisher cannot send (disconnected,
or the gateway's HTTP/2 flow control holds the stream) a newer book of a symbol
replaces the pending one: memory is bounded by the number of symbols, and every
replaced book is counted in `superseded`. Symbols leave in the order they first
became pending (a symbol updated all the time keeps its place and cannot starve
the others).

Thread-safe: publishers put from any thread, the stream's sender takes.
"""

import collections
import threading
import time


class LatestWinsBuffer:
    """symbol → newest pending item, FIFO by the time the symbol became pending."""

    def __init__(self):
        self._cond = threading.Condition()
        self._pending = collections.OrderedDict()
        self._superseded = 0
        self._wakeups = 0

    def put(self, symbol, item):
        """Makes `item` the pending book of `symbol`; True when it replaced one."""
        with self._cond:
            replaced = symbol in self._pending
            self._pending[symbol] = item  # an existing key keeps its position
            if replaced:
                self._superseded += 1
            self._cond.notify_all()
            return replaced

    def put_if_absent(self, symbol, item):
        """Adds `item` only when `symbol` has nothing pending (a resend after a
        reconnect must not replace a newer book); True when added."""
        with self._cond:
            if symbol in self._pending:
                return False
            self._pending[symbol] = item
            self._cond.notify_all()
            return True

    def take(self, max_items=1, timeout=None, stop=None, on_taken=None):
        """Removes and returns up to `max_items` (symbol, item) pairs, oldest symbol
        first. Blocks until one is pending, `timeout` seconds passed, wake() was
        called, or `stop()` (a predicate, checked under the lock) is true; then
        returns what is there (possibly []); a true stop() wins over pending
        books. `on_taken(taken)` is called under the lock when something was
        taken (before waiters of wait_until wake)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            wakeups = self._wakeups
            while True:
                # stop() first: a stopped taker must leave a pending book alone.
                if stop is not None and stop():
                    return []
                if self._pending:
                    break
                if self._wakeups != wakeups:
                    return []
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return []
                self._cond.wait(remaining)
            taken = []
            while self._pending and len(taken) < max_items:
                taken.append(self._pending.popitem(last=False))
            if on_taken is not None:
                on_taken(taken)
            self._cond.notify_all()
            return taken

    def wake(self):
        """Makes every blocked take() re-check its stop predicate now."""
        with self._cond:
            self._wakeups += 1
            self._cond.notify_all()

    def wait_until(self, predicate, timeout=None):
        """Waits (on the buffer's condition) until predicate() is true; returns it."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def notify(self):
        """Wakes wait_until() callers after state they watch changed elsewhere."""
        with self._cond:
            self._cond.notify_all()

    @property
    def superseded(self):
        """Books replaced by a newer book of the same symbol before they were sent."""
        with self._cond:
            return self._superseded

    def __len__(self):
        with self._cond:
            return len(self._pending)

    def symbols(self):
        """The symbols with a pending book, in sending order."""
        with self._cond:
            return list(self._pending)
