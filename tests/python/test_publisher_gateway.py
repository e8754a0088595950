"""Integration tests: Publisher and the drop-in against the real orderbook-gateway.

Each test starts <OBGW_BIN_DIR>/orderbook-gateway on free ports (harness.py),
subscribes a WebSocket client and checks what it receives. Synchronisation is
on events: a frame received, a callback fired, a line printed.
"""

import asyncio
import math
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import unittest

import orderbook_gateway
from orderbook_gateway import Publisher, PublisherClosed, broadcast, from_futu

from harness import GatewayProcess, WsClient


class Recorder:
    """Callbacks that set events, for the tests to wait on."""

    def __init__(self):
        self.errors = []
        self.rejections = []
        self.summaries = []
        self.error_event = threading.Event()

    def on_error(self, code, details, fatal):
        self.errors.append((code, details, fatal))
        self.error_event.set()

    def kwargs(self):
        return {"on_error": self.on_error, "on_rejection": self.rejections.append,
                "on_summary": self.summaries.append}


class PublishTest(unittest.TestCase):
    def setUp(self):
        self.gateway = GatewayProcess()
        self.addCleanup(self.gateway.stop)
        self.ws = WsClient(self.gateway.http_port, "py-test")
        self.addCleanup(self.ws.close)

    def test_a_book_reaches_a_websocket_subscriber(self):
        self.ws.subscribe("AAPL")
        with Publisher(self.gateway.grpc_target, batch=0) as p:  # Publish
            p.publish("AAPL", {"bids": [[189.5, 100, 3], {"price": 189.4, "volume": 0.5}],
                               "asks": [[189.6, 200, 2]], "timestamp": "2024-01-01T12:00:00Z",
                               "source_seq": 42})
            m = self.ws.recv_until(lambda m: m.get("type") == "orderbook_update")
            summary = p.close()
            stats = p.stats
        self.assertEqual(m["symbol"], "AAPL")
        self.assertEqual(m["data"], {"bids": [[189.5, 100, 3], [189.4, 0.5, 0]],
                                     "asks": [[189.6, 200, 2]],
                                     "timestamp": "2024-01-01T12:00:00Z", "source_seq": 42})
        self.assertEqual((summary.accepted, summary.rejected, summary.errors), (1, 0, ()))
        self.assertEqual((stats.published, stats.sent, stats.accepted, stats.state),
                         (1, 1, 1, "closed"))
        with self.assertRaises(PublisherClosed):
            p.publish("AAPL", {"bids": []})

    def test_publish_batch(self):
        self.ws.subscribe("A", "B", "C")
        with Publisher(self.gateway.grpc_target, batch=16) as p:
            for s in "ABC":
                p.publish(s, {"bids": [[1.5, 2, 1]], "asks": []})
            got = {}
            while len(got) < 3:
                m = self.ws.recv_until(lambda m: m.get("type") == "orderbook_update")
                got[m["symbol"]] = m["data"]
            summary = p.close()
        self.assertEqual(got, {s: {"bids": [[1.5, 2, 1]], "asks": []} for s in "ABC"})
        self.assertEqual((summary.accepted, summary.rejected), (3, 0))

    def test_futu_book_through_the_publisher(self):
        self.ws.subscribe("HK.00700")
        with Publisher(self.gateway.grpc_target) as p:
            p.publish_update(from_futu({
                "code": "HK.00700", "svr_recv_time_bid": "2024-03-01 10:15:30.123",
                "svr_recv_time_ask": "2024-03-01 10:15:30.120",
                "Bid": [(380.2, 12000, 15, {})], "Ask": [(380.4, 9000, 8, {})]}))
            m = self.ws.recv_until(lambda m: m.get("type") == "orderbook_update")
        self.assertEqual(m["data"], {"bids": [[380.2, 12000, 15]], "asks": [[380.4, 9000, 8]],
                                     "timestamp": "2024-03-01T02:15:30.123Z",
                                     "source_time_ns": 1709259330123000000})

    def test_the_guides_function_over_grpc(self):
        self.ws.subscribe("AAPL", "MSFT")
        os.environ["ORDERBOOK_GATEWAY_GRPC"] = self.gateway.grpc_target
        self.addCleanup(os.environ.pop, "ORDERBOOK_GATEWAY_GRPC")
        self.addCleanup(broadcast.close_shared)
        with self.assertLogs("orderbook_gateway.broadcast", "ERROR") as logs:
            results = asyncio.run(self._broadcast_both_shapes())
        self.assertEqual(results, [True, True, False])
        self.assertIn("Error broadcasting orderbook for A B: ", logs.output[0])
        got = {}
        while len(got) < 2:
            m = self.ws.recv_until(lambda m: m.get("type") == "orderbook_update")
            got[m["symbol"]] = m["data"]
        self.assertEqual(got["AAPL"], {"bids": [[189.5, 100, 0]], "asks": [[189.6, 50, 0]],
                                       "timestamp": "2024-01-01T12:00:00Z"})
        self.assertEqual(got["MSFT"], {"bids": [[410.2, 5, 2]], "asks": []})
        self.assertEqual(broadcast.close_shared().accepted, 2)

    def test_a_script_that_exits_without_closing_still_delivers_its_books(self):
        # A backend script calls the drop-in and ends: the shared publisher is
        # closed at interpreter exit, and its pending books are sent first.
        self.ws.subscribe("EXIT")
        script = (
            "import asyncio\n"
            "from orderbook_gateway import broadcast_orderbook_to_websocket as f\n"
            "async def main():\n"
            "    for i in range(1, 6):\n"
            "        assert await f('EXIT', {'bids': [[100 + i, 1, 1]], 'asks': []})\n"
            "asyncio.run(main())\n")
        env = dict(os.environ, ORDERBOOK_GATEWAY_GRPC=self.gateway.grpc_target)
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        # Latest-wins may skip books that were still pending; the newest arrives.
        m = self.ws.recv_until(lambda m: m.get("type") == "orderbook_update" and
                               m["data"]["bids"] == [[105, 1, 1]])
        self.assertEqual(m["symbol"], "EXIT")

    async def _broadcast_both_shapes(self):
        f = orderbook_gateway.broadcast_orderbook_to_websocket
        return [await f("AAPL", {"bids": [{"price": 189.5, "volume": 100}],
                                 "asks": [{"price": 189.6, "volume": 50}],
                                 "timestamp": "2024-01-01T12:00:00Z"}),
                await f("MSFT", {"bids": [[410.2, 5, 2]], "asks": []}),
                await f("A B", {"bids": []})]


class RejectionTest(unittest.TestCase):
    def test_a_rejected_book_is_reported_with_its_code(self):
        # The gateway allows 2 levels per side; the publisher checks 1000: the
        # gateway's summary is what tells.
        with GatewayProcess("--max_levels=2") as gateway:
            rec = Recorder()
            # validate=False: the NaN price reaches the gateway, which refuses it.
            p = Publisher(gateway.grpc_target, validate=False, **rec.kwargs())
            p.publish("AAPL", {"bids": [[3, 1], [2, 1], [1, 1]], "asks": []})
            p.publish_update(orderbook_gateway.to_update(
                "MSFT", {"bids": [[math.nan, 1]]}, validate=False))
            p.publish("IBM", {"bids": [[1, 1]], "asks": []})
            with self.assertLogs("orderbook_gateway", "WARNING") as logs:
                summary = p.close()
        self.assertEqual((summary.accepted, summary.rejected), (1, 2))
        self.assertEqual([(r.update, r.symbol, r.code, r.reason) for r in summary.rejections],
                         [(1, "AAPL", "too_many_levels", "bids has 3 levels, limit is 2"),
                          (2, "MSFT", "invalid_price", "bids[0].price is not finite")])
        self.assertEqual(rec.rejections, list(summary.rejections))
        self.assertEqual(rec.summaries, [summary])
        self.assertEqual(p.stats.rejected, 2)
        self.assertTrue(any("rejected [too_many_levels] update 1 (AAPL)" in line
                            for line in logs.output), logs.output)

    def test_summary_interval_reports_rejections_while_publishing(self):
        with GatewayProcess("--max_levels=1") as gateway:
            events = [threading.Event(), threading.Event()]
            rejections = []

            def on_rejection(r):
                rejections.append(r)
                events[len(rejections) - 1].set()
            p = Publisher(gateway.grpc_target, summary_interval_s=0.2, on_rejection=on_rejection)
            self.addCleanup(p.close)
            p.publish("AAPL", {"bids": [[2, 1], [1, 1]]})
            self.assertTrue(events[0].wait(10), "no summary while the publisher stayed open")
            # The next stream reports the next rejection, numbered from 1 again.
            p.publish("MSFT", {"asks": [[2, 1], [3, 1]]})
            self.assertTrue(events[1].wait(10), "no second summary")
            self.assertEqual([(r.update, r.symbol, r.code) for r in rejections],
                             [(1, "AAPL", "too_many_levels"), (1, "MSFT", "too_many_levels")])
            self.assertEqual(p.stats.rejected, 2)
            self.assertGreaterEqual(p.stats.streams, 2)
            self.assertEqual(p.stats.state, "streaming")


class TokenTest(unittest.TestCase):
    def setUp(self):
        self.token = secrets.token_hex(16)
        env = dict(os.environ, PUBLISH_TOKENS=self.token)
        self.gateway = GatewayProcess(env=env)
        self.addCleanup(self.gateway.stop)

    def test_the_right_token_is_accepted(self):
        ws = WsClient(self.gateway.http_port, "tok")
        self.addCleanup(ws.close)
        ws.subscribe("AAPL")
        p = Publisher(self.gateway.grpc_target, token=self.token)
        p.publish("AAPL", {"bids": [[1, 1]], "asks": []})
        m = ws.recv_until(lambda m: m.get("type") == "orderbook_update")
        self.assertEqual(m["data"]["bids"], [[1, 1, 0]])
        self.assertEqual(p.close().accepted, 1)

    def test_a_wrong_or_missing_token_is_refused_clearly(self):
        for token in ("wrong-" + secrets.token_hex(8), None):
            with self.subTest(token=token):
                rec = Recorder()
                p = Publisher(self.gateway.grpc_target, token=token, **rec.kwargs())
                self.addCleanup(p.close)
                p.publish("AAPL", {"bids": [[1, 1]], "asks": []})
                self.assertTrue(rec.error_event.wait(10))
                code, details, fatal = rec.errors[0]
                self.assertEqual(code.name, "UNAUTHENTICATED")
                self.assertTrue(fatal)
                self.assertIn("publish token", details)
                self.assertEqual(p.stats.state, "failed")
                self.assertEqual(p.stats.reconnects, 0)
                with self.assertRaises(PublisherClosed) as cm:
                    p.publish("AAPL", {"bids": []})
                self.assertIn("UNAUTHENTICATED", str(cm.exception))
                if token:
                    self.assertNotIn(token, str(cm.exception) + p.stats.last_error)


class TlsTest(unittest.TestCase):
    def test_publish_over_tls_with_a_private_ca(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        cert, key = os.path.join(tmp.name, "gw.crt"), os.path.join(tmp.name, "gw.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                        "/CN=gateway.test", "-addext", "subjectAltName=DNS:gateway.test",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        with GatewayProcess("--tls_cert_file=" + cert, "--tls_key_file=" + key) as gateway:
            # A plaintext publisher cannot talk to the TLS port: it keeps reconnecting.
            rec = Recorder()
            plain = Publisher(gateway.grpc_target, backoff_max_s=0.2, **rec.kwargs())
            plain.publish("AAPL", {"bids": [[1, 1]]})
            self.assertTrue(rec.error_event.wait(10))
            self.assertEqual(rec.errors[0][0].name, "UNAVAILABLE")
            self.assertFalse(rec.errors[0][2])
            plain.close(timeout=0.2)
            p = Publisher(gateway.grpc_target, root_certificates=cert,
                          tls_server_name="gateway.test")
            p.publish("AAPL", {"bids": [[189.5, 1, 1]], "asks": []})
            summary = p.close()
        self.assertEqual((summary.accepted, summary.rejected), (1, 0))


class ReconnectTest(unittest.TestCase):
    def test_gateway_restart_newest_book_per_symbol_arrives(self):
        first = GatewayProcess()
        self.addCleanup(first.stop)
        http_port, grpc_port = first.http_port, first.grpc_port
        ws = WsClient(http_port, "before")
        self.addCleanup(ws.close)
        ws.subscribe("AAPL")
        rec = Recorder()
        p = Publisher(first.grpc_target, backoff_initial_s=0.05, backoff_max_s=0.3,
                      **rec.kwargs())
        self.addCleanup(p.close)
        p.publish("AAPL", {"bids": [[100, 1]], "asks": []})
        ws.recv_until(lambda m: m.get("type") == "orderbook_update")
        self.assertTrue(p.flush(10))

        first.stop(sig_kill=True)  # a crash: no goodbye on the stream
        self.assertTrue(rec.error_event.wait(10), "the publisher did not see the stream fail")
        # While the gateway is away, only the newest book of each symbol is kept.
        for v in range(101, 105):
            p.publish("AAPL", {"bids": [[v, 1]], "asks": []})
        for v in range(1, 4):
            p.publish("MSFT", {"bids": [[v, 2]], "asks": []})
        stats = p.stats
        self.assertEqual(stats.pending, 2)
        # AAPL 100 (put back after the failure) and 101-103 replaced; MSFT 1-2.
        self.assertEqual(stats.resent, 1)
        self.assertEqual(stats.superseded, 4 + 2)

        second = GatewayProcess(http_port=http_port, grpc_port=grpc_port)
        self.addCleanup(second.stop)
        ws2 = WsClient(http_port, "after")
        self.addCleanup(ws2.close)
        got = {}
        ws2.send({"action": "subscribe", "symbols": ["AAPL", "MSFT"]})
        while len(got) < 2:
            m = ws2.recv_until(lambda m: m.get("type") == "orderbook_update")
            got.setdefault(m["symbol"], m["data"]["bids"])
        self.assertEqual(got, {"AAPL": [[104, 1, 0]], "MSFT": [[3, 2, 0]]})
        summary = p.close()
        stats = p.stats
        self.assertEqual(summary.accepted, 2)
        self.assertGreaterEqual(stats.reconnects, 1)
        self.assertEqual(stats.dropped_on_close, 0)
        self.assertTrue(all(code.name == "UNAVAILABLE" for code, _, _ in rec.errors), rec.errors)

    def test_graceful_gateway_restart(self):
        # SIGTERM: the gateway gives open streams --shutdown_grace_ms to half-close, then
        # cancels them; the publisher reconnects to the new process.
        first = GatewayProcess("--shutdown_grace_ms=200")
        self.addCleanup(first.stop)
        rec = Recorder()
        p = Publisher(first.grpc_target, backoff_initial_s=0.05, backoff_max_s=0.3,
                      **rec.kwargs())
        self.addCleanup(p.close)
        p.publish("AAPL", {"bids": [[100, 1]], "asks": []})
        self.assertTrue(p.flush(10))
        self.assertEqual(first.stop(), 0)
        self.assertTrue(rec.error_event.wait(10))
        p.publish("AAPL", {"bids": [[101, 1]], "asks": []})
        second = GatewayProcess(http_port=first.http_port, grpc_port=first.grpc_port)
        self.addCleanup(second.stop)
        ws = WsClient(second.http_port, "graceful")
        self.addCleanup(ws.close)
        ws.send({"action": "subscribe", "symbol": "AAPL"})
        m = ws.recv_until(lambda m: m.get("type") == "orderbook_update")
        self.assertEqual(m["data"]["bids"], [[101, 1, 0]])
        self.assertEqual(p.close().accepted, 1)  # before the second gateway stops
        self.assertFalse(any(fatal for _, _, fatal in rec.errors), rec.errors)

    def test_close_gives_up_when_the_gateway_never_comes_back(self):
        gateway = GatewayProcess()
        target = gateway.grpc_target
        gateway.stop()
        p = Publisher(target, backoff_initial_s=0.05, backoff_max_s=0.1)
        p.publish("AAPL", {"bids": [[1, 1]]})
        p.publish("MSFT", {"bids": [[1, 1]]})
        with self.assertLogs("orderbook_gateway", "WARNING") as logs:
            self.assertIsNone(p.close(timeout=0.5))
        self.assertEqual(p.stats.dropped_on_close, 2)
        self.assertTrue(any("closed with 2 book(s) not sent" in line for line in logs.output))


if __name__ == "__main__":
    unittest.main()
