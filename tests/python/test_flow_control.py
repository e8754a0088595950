"""Latest-wins under HTTP/2 flow control, against an in-process gRPC server.

The real gateway stops reading a stream only while its hub queue is over the
high-water mark, which a test cannot hold steady; here a server built from the
same generated stubs stands for a gateway that stopped reading: its Publish
handler waits on an event before it reads anything. The publisher's writes then
block once the HTTP/2 windows are full, the books wait in its buffer, and only
the newest of each symbol is kept there.
"""

import threading
import unittest
from concurrent import futures

import grpc

from orderbook_gateway import Publisher
from orderbook_gateway._stubs import pb, pb_grpc


class StalledIngest(pb_grpc.OrderBookIngestServicer):
    def __init__(self):
        self.release = threading.Event()
        self.received = []

    def Publish(self, request_iterator, context):
        self.release.wait(30)
        for update in request_iterator:
            self.received.append((update.symbol, update.source_seq))
        return pb.PublishSummary(accepted=len(self.received))

    def PublishBatch(self, request_iterator, context):
        self.release.wait(30)
        for batch in request_iterator:
            self.received.extend((u.symbol, u.source_seq) for u in batch.updates)
        return pb.PublishSummary(accepted=len(self.received))


class FlowControlTest(unittest.TestCase):
    def test_only_the_newest_book_per_symbol_waits_while_the_server_does_not_read(self):
        for batch in (0, 64):  # Publish, PublishBatch
            with self.subTest(batch=batch):
                self.check(batch)

    def check(self, batch):
        ingest = StalledIngest()
        server = grpc.server(futures.ThreadPoolExecutor(2))
        pb_grpc.add_OrderBookIngestServicer_to_server(ingest, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self.addCleanup(server.stop, 0)
        self.addCleanup(ingest.release.set)

        p = Publisher("127.0.0.1:%d" % port, batch=batch)
        self.addCleanup(p.close, 1)
        # 400 books of ~40 kB: 16 MB, far beyond what the HTTP/2 windows let through
        # while nobody reads.
        book = {"bids": [[100 + i / 100, 1, 1] for i in range(1000)],
                "asks": [[200 + i / 100, 1, 1] for i in range(1000)]}
        for i in range(400):
            p.publish("S%d" % (i % 4), dict(book, source_seq=i + 1))
        stats = p.stats
        # At most one book per symbol waits; most were replaced, not queued.
        self.assertEqual(stats.published, 400)
        self.assertLessEqual(stats.pending, 4)
        self.assertLess(stats.sent, 400)

        ingest.release.set()
        summary = p.close()
        stats = p.stats
        # Every book was sent or superseded: none lost otherwise, none queued twice.
        self.assertEqual(summary.accepted, len(ingest.received))
        self.assertEqual(stats.sent, len(ingest.received))
        self.assertEqual(stats.superseded, 400 - stats.sent)
        self.assertGreater(stats.superseded, 0)
        # The newest book of each symbol arrived, last, and the order of each symbol's
        # books was kept.
        last = {}
        for symbol, seq in ingest.received:
            self.assertGreater(seq, last.get(symbol, 0))
            last[symbol] = seq
        self.assertEqual(last, {"S0": 397, "S1": 398, "S2": 399, "S3": 400})


if __name__ == "__main__":
    unittest.main()
