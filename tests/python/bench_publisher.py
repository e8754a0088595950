"""How fast one Python Publisher feeds a real gateway (not a test: run by hand).

    PYTHONPATH=build/python:ingest/python:tests/python OBGW_BIN_DIR=build/bin \
      flock -x /work/bench.lock /usr/bin/python3 tests/python/bench_publisher.py [--batch N]

Starts the gateway (harness.py), publishes --books books of --levels levels per
side over --symbols symbols as fast as one thread can call publish(), then
close(). Prints one JSON line: publish() cost per call, books written and
accepted per second (from the first publish to the summary), superseded.
With --drain, --books symbols get one book each before the stream may take
any, and the time is from then to the summary: the stream's own rate.
"""

import argparse
import json
import time

from orderbook_gateway import Publisher

from harness import GatewayProcess


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--books", type=int, default=50000)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--levels", type=int, default=10)
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--drain", action="store_true",
                        help="one book per symbol (--books symbols), all pending before the "
                             "stream takes any: the stream's own rate, no producer competing "
                             "for the GIL")
    args = parser.parse_args()
    if args.drain:
        args.symbols = args.books
    books = [{"bids": [[100 - i * 0.01 - s * 0.001, 100 + i, i + 1] for i in range(args.levels)],
              "asks": [[100.01 + i * 0.01, 100 + i, i + 1] for i in range(args.levels)],
              "timestamp": "2024-01-01T12:00:00.000Z"} for s in range(args.symbols)]
    with GatewayProcess() as gateway:
        p = Publisher(gateway.grpc_target, batch=args.batch)
        if not p.flush(10):
            raise SystemExit("no stream")
        if args.drain:  # hold the stream thread off while the buffer fills
            p._buffer._cond.acquire()
        start = time.perf_counter()
        for n in range(args.books):
            s = n % args.symbols
            p.publish("SYM%d" % s, books[s])
        published = time.perf_counter() - start
        if args.drain:
            start = time.perf_counter()
            p._buffer._cond.release()
        summary = p.close(60)
        total = time.perf_counter() - start
        stats = p.stats
    print(json.dumps({
        "books": args.books, "symbols": args.symbols, "levels": args.levels, "batch": args.batch,
        "publish_us_per_call": round(published / args.books * 1e6, 1),
        "publish_calls_per_s": round(args.books / published),
        "sent": stats.sent, "accepted": summary.accepted, "superseded": stats.superseded,
        "accepted_per_s": round(summary.accepted / total), "seconds": round(total, 2)}))


if __name__ == "__main__":
    main()
