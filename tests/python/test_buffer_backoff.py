"""Unit tests: the latest-wins buffer, the backoff, summary parsing."""

import random
import threading
import unittest

from orderbook_gateway import parse_rejection
from orderbook_gateway.backoff import Backoff
from orderbook_gateway.latest import LatestWinsBuffer


class LatestWinsBufferTest(unittest.TestCase):
    def test_newest_per_symbol_in_first_pending_order(self):
        b = LatestWinsBuffer()
        self.assertFalse(b.put("AAPL", 1))
        self.assertFalse(b.put("MSFT", 1))
        self.assertTrue(b.put("AAPL", 2))
        self.assertTrue(b.put("AAPL", 3))
        self.assertEqual(len(b), 2)
        self.assertEqual(b.superseded, 2)
        # AAPL became pending first: it keeps its place, with its newest book.
        self.assertEqual(b.take(10), [("AAPL", 3), ("MSFT", 1)])
        self.assertEqual(len(b), 0)

    def test_memory_is_bounded_by_symbols(self):
        b = LatestWinsBuffer()
        for i in range(10000):
            b.put("S%d" % (i % 7), i)
        self.assertEqual(len(b), 7)
        self.assertEqual(b.superseded, 10000 - 7)
        self.assertEqual(dict(b.take(7)), {"S%d" % (i % 7): i for i in range(10000)})

    def test_put_if_absent_never_replaces_a_newer_book(self):
        b = LatestWinsBuffer()
        b.put("AAPL", "new")
        self.assertFalse(b.put_if_absent("AAPL", "old"))
        self.assertTrue(b.put_if_absent("MSFT", "old"))
        self.assertEqual(b.take(5), [("AAPL", "new"), ("MSFT", "old")])
        self.assertEqual(b.superseded, 0)

    def test_take_respects_max_items(self):
        b = LatestWinsBuffer()
        for s in "ABC":
            b.put(s, s)
        self.assertEqual(b.take(2), [("A", "A"), ("B", "B")])
        self.assertEqual(b.take(2), [("C", "C")])

    def test_take_blocks_until_a_put(self):
        b = LatestWinsBuffer()
        started = threading.Event()
        got = []

        def taker():
            started.set()
            got.extend(b.take(1, timeout=10))
        t = threading.Thread(target=taker)
        t.start()
        started.wait()
        b.put("AAPL", 7)
        t.join(10)
        self.assertEqual(got, [("AAPL", 7)])

    def test_take_returns_empty_on_stop_timeout_and_wake(self):
        b = LatestWinsBuffer()
        self.assertEqual(b.take(1, timeout=0), [])
        self.assertEqual(b.take(1, timeout=10, stop=lambda: True), [])
        stop = threading.Event()
        result = []
        waiting = threading.Event()

        def taker():
            waiting.set()
            result.append(b.take(1, timeout=30, stop=stop.is_set))
        t = threading.Thread(target=taker)
        t.start()
        waiting.wait()
        stop.set()
        b.wake()
        t.join(10)
        self.assertFalse(t.is_alive())
        self.assertEqual(result, [[]])


class BackoffTest(unittest.TestCase):
    def test_caps_double_up_to_the_maximum(self):
        b = Backoff(initial_s=0.1, max_s=1.0)
        self.assertEqual([round(b.cap(n), 6) for n in range(1, 7)],
                         [0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
        self.assertEqual(b.cap(10000), 1.0)  # no overflow after many attempts

    def test_full_jitter_stays_in_zero_to_cap(self):
        b = Backoff(initial_s=0.1, max_s=1.0, rng=random.Random(7))
        delays = [b.next_delay() for _ in range(200)]
        for n, d in enumerate(delays, 1):
            self.assertGreaterEqual(d, 0)
            self.assertLessEqual(d, b.cap(n))
        # Full jitter: late delays spread over [0, 1) rather than sitting at the cap.
        late = delays[20:]
        self.assertLess(min(late), 0.2)
        self.assertGreater(max(late), 0.8)
        self.assertEqual(b.attempt, 200)

    def test_reset_starts_again(self):
        b = Backoff(initial_s=0.5, max_s=8, rng=random.Random(1))
        for _ in range(5):
            b.next_delay()
        b.reset()
        self.assertLessEqual(b.next_delay(), 0.5)
        self.assertEqual(b.attempt, 1)

    def test_bad_parameters(self):
        for args in ((0, 1), (2, 1), (0.1, 1, 0.5)):
            with self.subTest(args=args), self.assertRaises(ValueError):
                Backoff(*args)


class ParseRejectionTest(unittest.TestCase):
    def test_the_gateways_reasons(self):
        cases = {
            "update 3 (AAPL): bids[0].price is not finite": (3, "AAPL", "invalid_price"),
            "update 1 (X): asks[12].volume is negative": (1, "X", "invalid_volume"),
            "update 7 (MSFT): bids has 3 levels, limit is 2": (7, "MSFT", "too_many_levels"),
            'update 5 (A B): symbol "A B" is invalid: 1-32 characters of [A-Za-z0-9._:-]':
                (5, "A B", "invalid_symbol"),
            "update 2 (Q): timestamp is longer than 64 characters": (2, "Q", "invalid_timestamp"),
            "something new": (0, "", "rejected"),
        }
        for text, (update, symbol, code) in cases.items():
            with self.subTest(text=text):
                r = parse_rejection(text)
                self.assertEqual((r.update, r.symbol, r.code, r.text), (update, symbol, code, text))
        self.assertEqual(parse_rejection(next(iter(cases))).reason, "bids[0].price is not finite")


if __name__ == "__main__":
    unittest.main()
