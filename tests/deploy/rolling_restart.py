#!/usr/bin/python3
"""Measures a rolling restart's reconnect wave (docs/operations.md section 13).

Starts its own cluster on free ports (redis-server, two gateway nodes on it
with --threads=1, nginx configured by deploy/cluster/render-nginx-conf.sh,
orderbook-feed publishing into node 2), connects N WebSocket clients through
nginx, each subscribed to one of 10 symbols, then restarts node 1 the way
section 13 says: SIGTERM (graceful shutdown: its listener closes, its
clients get close 1001), and once it has exited, start it again on the same
port. Each client closed by node 1 reconnects through nginx the way the
browser client library does (full-jitter backoff: attempt n waits
random(0, min(30 s, 0.5 s x 2^(n-1)))); the script records, per client, the
time from the close to `session_restored` (from Redis, on node 2) and to the
first book after it. Prints one JSON object with the distributions.

  /usr/bin/python3 tests/deploy/rolling_restart.py --bin_dir=build/bin --clients=1000

A measuring tool, not a test (it asserts nothing); it stops everything it
started.
"""

import argparse
import asyncio
import json
import os
import random
import re
import signal
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import websockets


ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(path, process, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and "orderbook-gateway ready" in path.read_text():
            return
        if process.poll() is not None:
            raise SystemExit(f"{path.name}: exited {process.returncode}: {path.read_text()}")
        time.sleep(0.05)
    raise SystemExit(f"{path.name}: no ready line")


class Cluster:
    """redis-server, two nodes, nginx and the feed; stop() ends them all."""

    def __init__(self, bin_dir, state):
        self.bin_dir, self.state = Path(bin_dir), Path(state)
        self.processes = []
        self.redis_port, self.nginx_port = free_port(), free_port()
        self.http = [free_port(), free_port()]
        self.grpc = [free_port(), free_port()]
        self.nodes = [None, None]

    def spawn(self, args, log, env=None):
        process = subprocess.Popen(args, stdout=open(self.state / log, "w"),
                                   stderr=subprocess.STDOUT, env=env)
        self.processes.append(process)
        return process

    def start_node(self, i):
        env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{self.redis_port}")
        log = f"node{i + 1}-{len(self.processes)}.log"
        self.nodes[i] = self.spawn(
            [self.bin_dir / "orderbook-gateway", "--threads=1", "--bind=127.0.0.1",
             f"--http_port={self.http[i]}", f"--grpc_port={self.grpc[i]}",
             f"--node_id=node{i + 1}", "--log_level=warn"], log, env)
        wait_ready(self.state / log, self.nodes[i])

    def start(self):
        self.spawn(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", str(self.state)], "redis.log")
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.redis_port), "ping"],
                              capture_output=True, text=True).stdout.strip() == "PONG":
                break
            time.sleep(0.05)
        for i in range(2):
            self.start_node(i)
        prefix = self.state / "nginx"
        conf = subprocess.run(
            ["bash", ROOT / "deploy/cluster/render-nginx-conf.sh", prefix,
             f"127.0.0.1:{self.nginx_port}"] + [f"127.0.0.1:{p}" for p in self.http],
            capture_output=True, text=True, check=True).stdout.strip()
        self.spawn(["/usr/sbin/nginx", "-p", prefix, "-c", conf, "-e", prefix / "error.log"],
                   "nginx.log")
        self.spawn([self.bin_dir / "orderbook-feed", f"--target=127.0.0.1:{self.grpc[1]}",
                    "--symbols=10", "--rate=20", "--report_every_s=0"], "feed.log")
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.nginx_port), 1).close()
                return
            except OSError:
                time.sleep(0.05)

    def stop(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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


async def measure(args, cluster):
    symbols = args.symbols.split(",")
    run_id = os.getpid()
    stop = asyncio.Event()
    url = f"ws://127.0.0.1:{cluster.nginx_port}/ws"
    clients = [Client(f"{url}/rr-{run_id}-{i}", symbols[i % len(symbols)])
               for i in range(args.clients)]
    tasks = []
    for i, client in enumerate(clients):
        tasks.append(asyncio.create_task(client.run(stop)))
        if i % 100 == 99:
            await asyncio.sleep(0)  # let the batch connect before the next
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), 120)

    sent_at = time.monotonic()
    node1 = cluster.nodes[0]
    node1.send_signal(signal.SIGTERM)
    while node1.poll() is None:
        await asyncio.sleep(0.05)
    exited_at = time.monotonic()
    cluster.start_node(0)  # the new version, on the same port
    back_at = time.monotonic()
    # Wait until each client node 1 closed has its session back and a book.
    deadline = sent_at + args.wait_s
    while time.monotonic() < deadline:
        moved = [c for c in clients if c.closed_at is not None]
        if moved and all(c.done.is_set() for c in moved):
            break
        await asyncio.sleep(0.1)
    stop.set()
    moved = [c for c in clients if c.closed_at is not None]
    result = {
        "clients": args.clients,
        "closed_by_node1": len(moved),
        "close_codes": sorted({c.close_code for c in moved if c.close_code is not None}),
        "node1_exit_code": node1.returncode,
        "sigterm_to_node1_exit_ms": round((exited_at - sent_at) * 1000, 1),
        "node1_restart_to_ready_ms": round((back_at - exited_at) * 1000, 1),
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
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin_dir", default=str(ROOT / "build" / "bin"))
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--symbols", default="AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA,BRK.B,JPM,V")
    parser.add_argument("--wait_s", type=float, default=60, help="longest wait for the wave")
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="obgw-rolling-")
    cluster = Cluster(args.bin_dir, state)
    try:
        cluster.start()
        print(json.dumps(asyncio.run(measure(args, cluster))))
    finally:
        cluster.stop()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
