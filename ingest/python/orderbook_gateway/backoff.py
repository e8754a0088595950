"""Backoff: capped exponential delays with full jitter.

delay(n) = uniform(0, min(max_s, initial_s * multiplier^(n-1))) for attempt
n = 1, 2, ... (the browser client's rule, docs/browser-client.md 5): after a
gateway restart the publishers of a fleet come back spread over the window
instead of all at the same instants. reset() after a connection that worked.

Not thread-safe: owned by the Publisher's stream thread.
"""

import random


class Backoff:
    def __init__(self, initial_s=0.1, max_s=10.0, multiplier=2.0, rng=None):
        if not initial_s > 0 or not max_s >= initial_s or not multiplier >= 1:
            raise ValueError("backoff needs 0 < initial_s <= max_s and multiplier >= 1, got "
                             "initial_s=%r max_s=%r multiplier=%r" % (initial_s, max_s, multiplier))
        self.initial_s = initial_s
        self.max_s = max_s
        self.multiplier = multiplier
        self._rng = rng if rng is not None else random.Random()
        self.attempt = 0

    def cap(self, attempt):
        """The upper bound of attempt `attempt`'s delay (1-based)."""
        # Stop multiplying once at the cap (no float overflow after many attempts).
        cap = self.initial_s
        for _ in range(attempt - 1):
            cap *= self.multiplier
            if cap >= self.max_s:
                return self.max_s
        return min(cap, self.max_s)

    def next_delay(self):
        """Seconds to wait before the next attempt."""
        self.attempt += 1
        return self._rng.uniform(0, self.cap(self.attempt))

    def reset(self):
        self.attempt = 0
