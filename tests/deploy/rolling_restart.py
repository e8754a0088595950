#!/usr/bin/python3
"""Measures a rolling restart's reconnect wave (docs/operations.md section 13).

Against a cluster from deploy/cluster/run-cluster.sh (two nodes, Redis, nginx,
the demo feed): N WebSocket clients connect through nginx and subscribe;
then node 1 gets SIGTERM (graceful shutdown: close 1001 to its clients).
Each client closed by it reconnects through nginx the way the browser
client library does (full-jitter backoff: attempt n waits
random(0, min(30 s, 0.5 s x 2^(n-1)))), and the script records, per client,
the time from the close to `session_restored` on the other node and to the
first book after it. Prints one JSON object with the distribution.

  /usr/bin/python3 tests/deploy/rolling_restart.py --nginx=127.0.0.1:8080 \\
      --node1_http_port=8101 --clients=1000

A measuring tool, not a test (it asserts nothing); it does not start or stop
the cluster, only SIGTERMs node 1's process (found by its listening port).
"""

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import time

import websockets


def pid_listening_on(port):
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True,
                         check=True).stdout
    match = re.search(r"pid=(\d+)", out)
    if not match:
        raise SystemExit(f"nothing listens on port {port}")
    return int(match.group(1))


def backoff_delay(attempt, min_ms=500, max_ms=30000):
    return random.uniform(0, min(max_ms, min_ms * 2 ** (attempt - 1))) / 1000


class Client:
    def __init__(self, url, symbol):
        self.url = url
        self.symbol = symbol
        self.ready = asyncio.Event()
        self.closed_at = None  # when the first connection ended
        self.close_code = None
        self.restored_at = None
        self.first_book_at = None
        self.attempts = 0
        self.done = asyncio.Event()

    async def run(self, stop):
        async with websockets.connect(self.url, max_size=None, open_timeout=30) as ws:
            await ws.send(json.dumps({"action": "subscribe", "symbol": self.symbol}))
            async for raw in ws:
                if json.loads(raw).get("type") == "subscription_confirmed":
                    break
            self.ready.set()
            try:
                async for _ in ws:
                    if stop.is_set():
                        return
            except websockets.ConnectionClosed:
                pass
            self.close_code = ws.close_code
        if stop.is_set():
            return
        self.closed_at = time.monotonic()
        # Reconnect with full jitter until a connection restores the session.
        while not stop.is_set():
            self.attempts += 1
            await asyncio.sleep(backoff_delay(self.attempts))
            try:
                async with websockets.connect(self.url, max_size=None, open_timeout=10) as ws:
                    async for raw in ws:
                        kind = json.loads(raw).get("type")
                        if kind == "session_restored" and self.restored_at is None:
                            self.restored_at = time.monotonic()
                        elif kind == "orderbook_update" and self.restored_at is not None:
                            self.first_book_at = time.monotonic()
                            self.done.set()
                            await stop.wait()
                            return
            except (OSError, websockets.WebSocketException, asyncio.TimeoutError):
                continue


def percentiles(values):
    if not values:
        return {}
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    return {"n": len(values), "p50_ms": round(pick(0.50) * 1000, 1),
            "p90_ms": round(pick(0.90) * 1000, 1), "p99_ms": round(pick(0.99) * 1000, 1),
            "max_ms": round(values[-1] * 1000, 1)}


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nginx", required=True, help="nginx host:port")
    parser.add_argument("--node1_http_port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--symbols", default="AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA,BRK.B,JPM,V")
    parser.add_argument("--wait_s", type=float, default=60, help="longest wait for the wave")
    args = parser.parse_args()
    symbols = args.symbols.split(",")
    run_id = os.getpid()
    stop = asyncio.Event()
    clients = [Client(f"ws://{args.nginx}/ws/rr-{run_id}-{i}", symbols[i % len(symbols)])
               for i in range(args.clients)]
    tasks = []
    for i, client in enumerate(clients):
        tasks.append(asyncio.create_task(client.run(stop)))
        if i % 100 == 99:
            await asyncio.sleep(0)  # let the batch connect before the next
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), 120)

    pid = pid_listening_on(args.node1_http_port)
    sent_at = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    # The clients node 1 held are those it closes; wait until each of them
    # has its session back and a book, or the deadline.
    deadline = sent_at + args.wait_s
    while time.monotonic() < deadline:
        moved = [c for c in clients if c.closed_at is not None]
        if moved and all(c.done.is_set() for c in moved) and time.monotonic() - sent_at > 10:
            break
        await asyncio.sleep(0.1)
    stop.set()
    moved = [c for c in clients if c.closed_at is not None]
    result = {
        "clients": args.clients,
        "closed_by_node1": len(moved),
        "close_codes": sorted({c.close_code for c in moved if c.close_code is not None}),
        "sigterm_to_close": percentiles([c.closed_at - sent_at for c in moved]),
        "close_to_session_restored": percentiles(
            [c.restored_at - c.closed_at for c in moved if c.restored_at]),
        "close_to_first_book": percentiles(
            [c.first_book_at - c.closed_at for c in moved if c.first_book_at]),
        "not_restored": sum(1 for c in moved if c.restored_at is None),
        "attempts_max": max((c.attempts for c in moved), default=0),
        "attempts_mean": round(sum(c.attempts for c in moved) / max(1, len(moved)), 2),
    }
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
