#!/usr/bin/python3
"""Side-by-side benchmark runner: the gateway against the three peers.

    /usr/bin/python3 tests/bench/run_benchmarks.py [--quick] [--only SCENARIO] [--pinned]
                                                   [--out DIR]

One command from a clean clone: builds the tools with `bash deploy/build.sh`
if they are missing (BUILD_DIR, default `build`), starts the gateway and the
peers in ../shared/peers/ (python-seed: FastAPI + uvicorn from Debian;
node-ws and bun-uws: `npm ci --omit=dev` in a temporary copy), runs every scenario against
each with `orderbook-loadgen` (peers over HTTP publishing, the only path they
have; the gateway over HTTP and over gRPC), and writes

    docs/performance-results.jsonl   one raw loadgen JSON line per run
    docs/performance.md              machine, commands, tables, ratios, goals
    docs/performance.png             delivered/s and p99 vs offered load
    docs/freshness.png               book age p99 vs offered load (freshness scenario)

Every server is started fresh for every run (clean RSS and counters) in its
own process group, with its soft fd limit raised to the hard limit, and is
killed at the end of the run and on any error.

--baseline BIN adds every gateway run again with another build of the gateway
(e.g. the previous commit's `build/bin/orderbook-gateway`), each right after the
run it repeats, and a table of new / baseline ratios: a refactoring's cost on
the hot path, measured side by side in one run.

Per core: the per-core, freshness and memory scenarios always run pinned
(every server on CPU 0 with `taskset -c 0`, the gateway with `--threads=1`; the
loadgen on CPU 1), so each server has exactly one core; --pinned runs every
other selected scenario the same way (its rows are marked pinned).

--only SCENARIO reruns one scenario (fanout-1k, mixed-200, sweep,
connections, ingest, deflate, cluster, per-core, freshness, memory) and regenerates the doc from
the stored results of the others. --quick uses tiny durations and writes to $BUILD_DIR/bench-quick/
unless --out is given (so a smoke check never overwrites the real figures).

Python 3 standard library plus matplotlib (Debian python3-matplotlib).
"""
import argparse
import atexit
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.normpath(os.path.join(SCRIPT_DIR, "..", ".."))
PEERS_DIR = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "peers"))
BUILD_DIR = os.path.join(REPO_ROOT, os.environ.get("BUILD_DIR", "build"))
BIN_DIR = os.path.join(BUILD_DIR, "bin")
PYTHON = "/usr/bin/python3"  # Debian's, which has fastapi and uvicorn
ONE_COMMAND = "/usr/bin/python3 tests/bench/run_benchmarks.py"

SCENARIOS = ["fanout-1k", "mixed-200", "sweep", "connections", "ingest", "deflate", "cluster",
             "per-core", "freshness", "memory"]
# Scenarios measured per core whatever --pinned says: one core per server.
PINNED_GROUPS = {"per-core", "freshness", "memory"}
# Books per OrderBookBatch of the PublishBatch ingest runs, and those runs: single runs of
# a group that is not pinned, measured per core all the same (the issue's ">= 500k
# books/s on one stream with the publisher on the other core"); their rows are marked ‡.
INGEST_BATCH_SIZES = [100, 1000]
PINNED_RUNS = {f"ingest-batch-{n}" for n in INGEST_BATCH_SIZES}
# Display names: target and publishing path.
TARGETS = {
    ("gateway", "http"): "gateway (HTTP)",
    ("gateway", "grpc"): "gateway (gRPC)",
    ("gateway", "grpc-batch"): "gateway (gRPC PublishBatch)",
    ("python-seed", "http"): "python-seed",
    ("node-ws", "http"): "node-ws",
    ("bun-uws", "http"): "bun-uws",
    ("gateway-deflate", "grpc"): "gateway (gRPC, deflate)",
    ("gateway-baseline", "http"): "baseline (HTTP)",
    ("gateway-baseline", "grpc"): "baseline (gRPC)",
    ("gateway-baseline", "grpc-batch"): "baseline (gRPC PublishBatch)",
    ("gateway-baseline", "none"): "gateway-baseline",
    ("gateway-1cpu", "grpc"): "one node, no Redis (gRPC)",
    ("cluster", "grpc"): "node A → Redis → node B (gRPC)",
}
PEERS = ["python-seed", "node-ws", "bun-uws"]
# Each npm peer: its directory in PEERS_DIR and how it starts in its installed copy.
NPM_PEERS = {
    "node-ws": ["node", "server.js"],
    "bun-uws": ["./node_modules/.bin/bun", "server.ts"],
}
SWEEP_RATES = [1000, 5000, 10000, 20000, 50000]
HTTP_PUBLISHERS = 32
GRPC_PUBLISHERS = 2
# The cluster scenario pins its servers and the load generator to separate
# CPUs (the fair per-core comparison of DESIGN.md): every server process
# (redis-server, node A, node B; or the single node) on SERVER_CPU, the
# loadgen on LOADGEN_CPU.
# The per-core scenarios (PINNED_GROUPS, --pinned) use the same two CPUs.
SERVER_CPU = "0"
LOADGEN_CPU = "1"
CLUSTER_RATE = 10000        # the "p99 added at 10k books/s"
CLUSTER_HIGH_RATE = 50000   # its ">= 50k books/s through one Redis", paced
# freshness: books/s offered over 10 symbols to 1,000 clients (100 subscribers a
# symbol: 1,000 books/s = 100k deliveries/s); 0 = a flood (publishers flat out).
FRESHNESS_RATES = [100, 300, 1000, 2000, 5000, 0]
MEMORY_CONNECTIONS = [5000, 15000]


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- servers


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process in its own process group; stop() kills the group."""

    live = []

    def __init__(self, name, argv, cwd, logdir):
        self.name = name
        self.log_path = os.path.join(logdir, f"{name}.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self.log, preexec_fn=raise_fd_limit, start_new_session=True)
        Server.live.append(self)
        self.ready_line = None
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace")
            if self.ready_line is None and line.startswith("orderbook-gateway ready"):
                self.ready_line = line.strip()
                self._ready.set()
            self.log.write(raw)
            self.log.flush()
        self._ready.set()

    @property
    def pid(self):
        return self.proc.pid

    def wait_ready_line(self, timeout):
        self._ready.wait(timeout)
        if self.ready_line is None:
            raise RuntimeError(f"{self.name} did not print its ready line; see {self.log_path}:\n"
                               + self.tail())
        return self.ready_line

    def wait_for(self, probe, timeout, what):
        """Polls probe() (True when ready; OSError/ValueError count as not yet) until it
        holds, the server exits, or `timeout` passes (RuntimeError)."""
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline and self.proc.poll() is None:
            try:
                if probe():
                    return
            except (OSError, ValueError) as e:
                last = f" ({e})"
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not {what} after {timeout} s{last} "
                           f"(exit {self.proc.poll()}); see {self.log_path}:\n" + self.tail())

    def wait_health(self, port, timeout, require_healthy=False):
        """GET /health answers 200; with require_healthy its status is "healthy" (a cluster
        node is degraded until it reached Redis)."""
        def probe():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                return r.status == 200 and (
                    not require_healthy or json.loads(r.read()).get("status") == "healthy")
        self.wait_for(probe, timeout, f"healthy on port {port}")

    def wait_redis(self, port, timeout):
        """redis-server on `port` answers PING."""
        def probe():
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        self.wait_for(probe, timeout, f"answering PING on port {port}")

    def tail(self, lines=20):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self in Server.live:
            Server.live.remove(self)
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        else:
            # The leader exited; its group may still hold children.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._reader.join(timeout=2)
        self.log.close()


def stop_all():
    for server in list(Server.live):
        server.stop()


def pinned(argv, cpu):
    """argv run on CPU `cpu` (taskset execs it: the pid stays the program's); as is if None."""
    return argv if cpu is None else ["taskset", "-c", cpu] + argv


class Deployment:
    """The server processes of one run and where the loadgen finds them.

    The loadgen connects its clients to `http` (and measures servers[0], --server_pid) and
    publishes to publish_grpc (default: the same server). cluster_nodes maps each gateway
    node's name to its HTTP port, for the Redis counters read at the end of a run."""

    # The /stats counters that explain a cluster run's loss and latency.
    CLUSTER_STATS = ["redis.books_published", "redis.books_received", "redis.timeouts",
                     "redis.books_sequenced_locally", "redis.books_retried", "redis.broker_conflated", "hub_superseded"]

    # The /stats counters (gateway/metrics/gateway_stats.h) that say where a single
    # gateway's books went: routed by the hub, replaced in the hub (hub_conflated) or in a
    # connection's queue (messages_conflated), dropped from a full queue.
    GATEWAY_STATS = ["updates_routed", "hub_conflated", "hub_conflated_in_batch", "hub_superseded",
                     "messages_conflated", "session_conflated_age", "socket_buffer_full",
                     "messages_throttled", "messages_dropped", "ws_closed_slow_consumer",
                     "messages_sent", "queue_delay_ns_total"]

    def __init__(self, servers, http, grpc, publish_grpc=None, loadgen_cpu=None,
                 cluster_nodes=None, gateway_http=None):
        self.servers = servers
        self.http = http
        self.grpc = grpc
        self.publish_grpc = publish_grpc
        self.loadgen_cpu = loadgen_cpu
        self.cluster_nodes = cluster_nodes or {}
        self.gateway_http = gateway_http  # a single gateway's HTTP port, for GATEWAY_STATS

    @staticmethod
    def read_stats(port, paths):
        """{path: value} of GET /stats on `port` (a dotted path walks nested objects);
        None when the server does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=2) as r:
                stats = json.loads(r.read())
        except (OSError, ValueError):
            return None
        values = {}
        for path in paths:
            value = stats
            for key in path.split("."):
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                values[path] = value
        return values

    def cluster_stats(self):
        """{node: {counter: value}} from each cluster node's GET /stats; {} on no cluster."""
        out = {}
        for name, port in self.cluster_nodes.items():
            values = self.read_stats(port, self.CLUSTER_STATS)
            if values is not None:
                out[name] = values
        return out

    def gateway_stats(self):
        """GATEWAY_STATS of a single gateway at the end of its run; None for peers."""
        if self.gateway_http is None:
            return None
        return self.read_stats(self.gateway_http, self.GATEWAY_STATS)

    def loadgen_argv(self, loadgen):
        argv = [loadgen, "--host=127.0.0.1", f"--http_port={self.http}",
                f"--grpc_port={self.grpc}", f"--server_pid={self.servers[0].pid}"]
        if len(self.servers) > 1:
            argv.append("--other_pids=" + ",".join(str(s.pid) for s in self.servers[1:]))
        if self.publish_grpc is not None:
            argv.append(f"--publish_grpc_port={self.publish_grpc}")
        return pinned(argv, self.loadgen_cpu)

    def process_cpu_pct(self, record):
        """{server name: CPU % of one core while publishing} from the loadgen's record
        (server_cpu_pct for servers[0], other_cpu_pct by pid for the others)."""
        others = record.get("other_cpu_pct", {})
        out = {self.servers[0].name: record.get("server_cpu_pct")}
        out.update({s.name: others.get(str(s.pid)) for s in self.servers[1:]})
        return {name: round(pct, 1) for name, pct in out.items() if pct is not None}

    def dead(self):
        return [s for s in self.servers if not s.alive()]

    def stop(self):
        for server in self.servers:
            server.stop()


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


class Env:
    """Tools, peers and scratch space shared by every run."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="obgw-bench-")
        self.gateway = os.path.join(BIN_DIR, "orderbook-gateway")
        self.baseline = None  # --baseline: another gateway binary to compare with
        self.loadgen = os.path.join(BIN_DIR, "orderbook-loadgen")
        self.npm_dirs = {}  # npm peer name -> its installed copy
        self.pinned = False  # --pinned: every run per core, not only PINNED_GROUPS

    def prepare(self, need_peers):
        if not (os.access(self.gateway, os.X_OK) and os.access(self.loadgen, os.X_OK)):
            log(f"== tools missing in {BIN_DIR}: building with deploy/build.sh")
            subprocess.run(["bash", "deploy/build.sh"], cwd=REPO_ROOT, check=True,
                           env=dict(os.environ, BUILD_DIR=os.path.relpath(BUILD_DIR, REPO_ROOT)))
        for tool in (self.gateway, self.loadgen):
            if not os.access(tool, os.X_OK):
                sys.exit(f"run_benchmarks: {tool} missing after the build")
        if not need_peers:
            return
        seed = os.path.join(PEERS_DIR, "python-seed", "main.py")
        npm_peers = [os.path.join(PEERS_DIR, name, argv[-1]) for name, argv in NPM_PEERS.items()]
        for path in [seed] + npm_peers:
            if not os.path.exists(path):
                sys.exit(f"run_benchmarks: peer missing: {path}\n"
                         f"The peers are expected in {PEERS_DIR} (../shared/peers from the "
                         "repository root).")
        probe = subprocess.run([PYTHON, "-c", "import fastapi, uvicorn"], capture_output=True)
        if probe.returncode != 0:
            sys.exit("run_benchmarks: python-seed needs fastapi and uvicorn in /usr/bin/python3 "
                     "(apt-get install python3-fastapi python3-uvicorn)")
        for tool in ("node", "npm"):
            if shutil.which(tool) is None:
                sys.exit(f"run_benchmarks: node-ws and bun-uws need `{tool}` "
                         "(apt-get install nodejs npm)")
        # shared/ is read-only in CI: install into a private copy (bun-uws's
        # dependency is the bun runtime itself, a native binary from npm).
        for name in NPM_PEERS:
            self.npm_dirs[name] = os.path.join(self.tmp, name)
            shutil.copytree(os.path.join(PEERS_DIR, name), self.npm_dirs[name],
                            ignore=shutil.ignore_patterns("node_modules"))
            log(f"== npm ci --omit=dev ({name}, in a temporary copy)")
            subprocess.run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund"],
                           cwd=self.npm_dirs[name], check=True, stdout=subprocess.DEVNULL)

    def start(self, target, per_core=False):
        """Starts fresh server(s) for one run; returns their Deployment.

        per_core: the server on SERVER_CPU (a gateway with --threads=1), the loadgen on
        LOADGEN_CPU: what one core of each server does."""
        if target == "cluster":
            return self.start_cluster()
        if target in ("gateway", "gateway-deflate", "gateway-baseline", "gateway-1cpu"):
            extra = ["--ws_deflate"] if target == "gateway-deflate" else []
            if target == "gateway-1cpu":  # the cluster scenario's single-node reference
                extra = ["--threads=1"]
            elif per_core:
                extra.append("--threads=1")
            binary = self.baseline if target == "gateway-baseline" else self.gateway
            pin = SERVER_CPU if target == "gateway-1cpu" or per_core else None
            server, http, grpc = self.start_gateway(target, binary, extra, pin)
            return Deployment([server], http, grpc,
                              loadgen_cpu=LOADGEN_CPU if pin is not None else None,
                              gateway_http=http)
        port = free_port()
        pin = SERVER_CPU if per_core else None
        if target == "python-seed":
            server = Server(target, pinned([PYTHON, "main.py", "--port", str(port)], pin),
                            os.path.join(PEERS_DIR, "python-seed"), self.tmp)
        else:
            server = Server(target, pinned(NPM_PEERS[target] + ["--port", str(port)], pin),
                            self.npm_dirs[target], self.tmp)
        server.wait_health(port, 60)
        return Deployment([server], port, 0, loadgen_cpu=LOADGEN_CPU if per_core else None)

    def start_gateway(self, name, binary, extra, pin=None):
        """Starts one gateway on free ports; returns (server, http_port, grpc_port)."""
        argv = [binary, "--bind=127.0.0.1", "--http_port=0", "--grpc_port=0",
                "--log_level=warn"] + extra
        server = Server(name, pinned(argv, pin), REPO_ROOT, self.tmp)
        line = server.wait_ready_line(30)
        http = int(re.search(r"http=\S*:(\d+)", line).group(1))
        grpc = int(re.search(r"grpc=\S*:(\d+)", line).group(1))
        server.wait_health(http, 30)
        return server, http, grpc

    def start_cluster(self):
        """redis-server, then nodes A and B on it, all pinned to SERVER_CPU.

        The loadgen subscribes its clients on B and publishes into A, so every book
        crosses Redis (A's EVALSHA publishes it, B's subscriber receives it)."""
        for tool in ("redis-server", "taskset"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"the cluster scenario needs `{tool}` "
                                   "(bash deploy/install-deps.sh)")
        redis_port = free_port()
        redis = Server("redis", pinned(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.tmp], SERVER_CPU), self.tmp, self.tmp)
        redis.wait_redis(redis_port, 10)
        url = f"--redis_url=redis://127.0.0.1:{redis_port}"
        nodes = {}
        for name in ("node-a", "node-b"):
            server, http, grpc = self.start_gateway(
                name, self.gateway, ["--threads=1", url, f"--node_id=bench-{name}"], SERVER_CPU)
            server.wait_health(http, 10, require_healthy=True)  # connected to Redis
            nodes[name] = (server, http, grpc)
        a, a_http, a_grpc = nodes["node-a"]
        b, b_http, b_grpc = nodes["node-b"]
        # Node B first: the loadgen's --server_pid measures the subscribers' node.
        return Deployment([b, a, redis], b_http, b_grpc, publish_grpc=a_grpc,
                          loadgen_cpu=LOADGEN_CPU,
                          cluster_nodes={"node-a": a_http, "node-b": b_http})

    def cleanup(self):
        stop_all()
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------- runs


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cpu_busy_pct(interval=1.0):
    """Whole-machine CPU use over `interval` (100 = every core busy)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(interval)
    t1, i1 = sample()
    return 100.0 * (1 - (i1 - i0) / max(t1 - t0, 1))


def wait_quiet(limit_pct=25, max_wait_s=60):
    """Waits (bounded) until nothing else is using much CPU; returns the last reading."""
    deadline = time.time() + max_wait_s
    busy = cpu_busy_pct()
    warned = False
    while busy > limit_pct and time.time() < deadline:
        if not warned:
            log(f"   machine busy ({busy:.0f}% CPU used by something else); waiting up to "
                f"{max_wait_s} s")
            warned = True
        busy = cpu_busy_pct(2.0)
    return busy


def run_one(env, scenario, group, target, publish, **params):
    """Starts `target`, runs the loadgen once, stops the server; returns the record."""
    label = TARGETS.get((target, publish), f"{target} (idle)")
    per_core = env.pinned or group in PINNED_GROUPS or scenario in PINNED_RUNS
    log(f"-- {scenario} / {label}" + (" (pinned)" if per_core else ""))
    busy_before = wait_quiet()
    deployment = env.start(target, per_core)
    argv = deployment.loadgen_argv(env.loadgen) + [
        f"--publish={publish}", f"--target={target}",
        f"--scenario={scenario}"] + [f"--{k}={v}" for k, v in params.items()]
    shown = pinned(["orderbook-loadgen", f"--publish={publish}"] + [
        f"--{k}={v}" for k, v in params.items()], deployment.loadgen_cpu)
    timeout = params.get("duration_s", 0) + params.get("drain_s", 5) + \
        params.get("connect_timeout_s", 120) + 60
    load_before = loadavg()
    record = None
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        line = next((l for l in proc.stdout.splitlines() if l.startswith("{")), None)
        if line is None:
            record = {"scenario": scenario, "target": target, "publish": publish,
                      "error": f"loadgen exit {proc.returncode}, no JSON: "
                               + proc.stderr.strip()[-400:]}
        else:
            record = json.loads(line)
            record["loadgen_exit"] = proc.returncode
            if proc.returncode != 0:
                record["error"] = f"loadgen exit {proc.returncode}: " + \
                    proc.stderr.strip().splitlines()[-1][:300] if proc.stderr.strip() else ""
    except subprocess.TimeoutExpired:
        record = {"scenario": scenario, "target": target, "publish": publish,
                  "error": f"loadgen timed out after {timeout} s"}
    finally:
        for server in deployment.dead():
            msg = (f"{server.name} died during the run (exit {server.proc.poll()}): "
                   f"{server.tail(5)}")
            record = record or {"scenario": scenario, "target": target, "publish": publish}
            record["error"] = (record.get("error", "") + " " + msg).strip()
        if record is not None and (len(deployment.servers) > 1 or deployment.loadgen_cpu):
            record["process_cpu_pct"] = deployment.process_cpu_pct(record)
            record["pinning"] = {s.name: SERVER_CPU for s in deployment.servers}
            record["pinning"]["loadgen"] = deployment.loadgen_cpu
        if record is not None and deployment.cluster_nodes:
            record["cluster_stats"] = deployment.cluster_stats()
        if record is not None:
            stats = deployment.gateway_stats()
            if stats is not None:
                record["gateway_stats"] = stats
        deployment.stop()
    record.update({"group": group, "label": label, "command": " ".join(shown),
                   "pinned": per_core,
                   "loadavg_before": load_before, "cpu_busy_before_pct": round(busy_before, 1),
                   "time": datetime.datetime.now().isoformat(timespec="seconds")})
    log("   " + summary(record))
    return record


def summary(r):
    if "delivered_per_s" not in r:
        return "ERROR " + r.get("error", "?")
    lat = r.get("latency_us", {})
    if r.get("publish") == "none":
        return (f"connected {r.get('connected'):,}/{r.get('clients'):,} in "
                f"{r.get('connect_s', 0):.1f} s, rss {r.get('server_rss_kb_idle', 0) / 1024:.0f} -> "
                f"{r.get('server_rss_kb_connected', 0) / 1024:.0f} MB, "
                f"{r.get('rss_bytes_per_connection', 0):,.0f} B/conn"
                + (", ERROR " + r["error"] if r.get("error") else ""))
    parts = [f"connected {r.get('connected')}/{r.get('clients')}",
             f"published {r.get('publish_rate', 0):,.0f}/s",
             f"delivered {r.get('delivered_per_s', 0):,.0f}/s",
             f"loss {r.get('loss_pct', 0):.2f}%",
             f"p50 {lat.get('p50', 0):,.0f} us p99 {lat.get('p99', 0):,.0f} us "
             f"max {lat.get('max', 0):,.0f} us",
             f"cpu {r.get('server_cpu_pct', 0):.0f}%",
             f"rss {r.get('server_rss_kb_peak', 0) / 1024:.0f} MB"]
    if r.get("rss_bytes_per_connection") is not None and r.get("publish") == "none":
        parts.append(f"{r['rss_bytes_per_connection']:,.0f} B/conn")
    gs = r.get("gateway_stats")
    if gs:
        parts.append(f"hub_conflated {gs.get('hub_conflated', 0):,} messages_conflated "
                     f"{gs.get('messages_conflated', 0):,} dropped {gs.get('messages_dropped', 0):,}")
    if r.get("error"):
        parts.append("ERROR " + r["error"])
    return ", ".join(parts)


def with_baseline(runs):
    """Each plain gateway run followed by the same run against the baseline binary."""
    out = {}
    for group, group_runs in runs.items():
        out[group] = []
        for run in group_runs:
            out[group].append(run)
            if run[2] == "gateway":
                out[group].append((run[0], run[1], "gateway-baseline", run[3], dict(run[4])))
    return out


def scenario_runs(quick):
    """(scenario name, group, target, publish, loadgen params) for every run."""
    dur = 1.5 if quick else 8
    drain = 2 if quick else 5
    hard_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    gw_conns = 300 if quick else min(15000, hard_nofile - 1000)
    peer_conns = 200 if quick else min(5000, gw_conns)
    runs = {g: [] for g in SCENARIOS}
    both = [("gateway", "http"), ("gateway", "grpc")] + [(peer, "http") for peer in PEERS]

    def pubs(publish):
        return HTTP_PUBLISHERS if publish == "http" else GRPC_PUBLISHERS

    for target, publish in both:
        runs["fanout-1k"].append(("fanout-1k", "fanout-1k", target, publish, dict(
            clients=1000, symbols=10, subs_per_client=1, rate=0, publishers=pubs(publish),
            duration_s=dur, drain_s=drain)))
    for target, publish in both:
        runs["mixed-200"].append(("mixed-200", "mixed-200", target, publish, dict(
            clients=200, symbols=20, subs_per_client=5, rate=0, publishers=pubs(publish),
            duration_s=dur, drain_s=drain)))
    rates = [1000, 10000] if quick else SWEEP_RATES
    for rate in rates:
        for target, publish in both:
            runs["sweep"].append((f"sweep-{rate // 1000}k", "sweep", target, publish, dict(
                clients=200, symbols=20, subs_per_client=5, rate=rate,
                publishers=pubs(publish), duration_s=dur, drain_s=drain)))
    for target in ["gateway"] + PEERS:
        n = gw_conns if target == "gateway" else peer_conns
        runs["connections"].append(("connections", "connections", target, "none", dict(
            clients=n, symbols=10, subs_per_client=1, duration_s=0, drain_s=0,
            connect_timeout_s=180)))
    runs["ingest"].append(("ingest", "ingest", "gateway", "grpc", dict(
        clients=0, symbols=10, subs_per_client=0, levels=10, rate=0, publishers=1,
        duration_s=dur, drain_s=0)))
    # One PublishBatch stream flat out, pinned (PINNED_RUNS): the gateway on SERVER_CPU with
    # --threads=1, the publisher on LOADGEN_CPU.
    for batch in INGEST_BATCH_SIZES:
        runs["ingest"].append((f"ingest-batch-{batch}", "ingest", "gateway", "grpc-batch", dict(
            clients=0, symbols=10, subs_per_client=0, levels=10, rate=0, publishers=1,
            batch_size=batch, duration_s=dur, drain_s=0)))
    # permessage-deflate: the same moderate load (1,000 20-level books/s to
    # 50 subscribers each) with plain and compressed clients, then idle
    # connections of each kind for the memory per connection.
    idle = 300 if quick else 5000
    for target in ("gateway", "gateway-deflate"):
        deflate = "true" if target == "gateway-deflate" else "false"
        runs["deflate"].append(("deflate-50k", "deflate", target, "grpc", dict(
            clients=200, symbols=20, subs_per_client=5, levels=20, rate=1000,
            publishers=GRPC_PUBLISHERS, duration_s=dur, drain_s=drain, deflate=deflate)))
    for target in ("gateway", "gateway-deflate"):
        deflate = "true" if target == "gateway-deflate" else "false"
        runs["deflate"].append(("deflate-idle", "deflate", target, "none", dict(
            clients=idle, symbols=10, subs_per_client=1, duration_s=0, drain_s=0,
            connect_timeout_s=180, deflate=deflate)))
    # per-core (always pinned): fanout-1k and mixed-200 with one core for each server.
    for name, topology in (("fanout-1k", dict(clients=1000, symbols=10, subs_per_client=1)),
                           ("mixed-200", dict(clients=200, symbols=20, subs_per_client=5))):
        for target, publish in both:
            runs["per-core"].append((f"per-core-{name}", "per-core", target, publish, dict(
                topology, rate=0, publishers=pubs(publish), duration_s=dur, drain_s=drain)))
    # freshness (pinned): how old the delivered books are, paced and under a flood, to
    # 1,000 clients of 1 of 10 symbols. Targets in the order the table and plot list them.
    fresh_rates = [1000, 0] if quick else FRESHNESS_RATES
    fresh_targets = [("gateway", "grpc"), ("gateway", "http")] + [(p, "http") for p in PEERS]
    for rate in fresh_rates:
        name = f"freshness-{rate}" if rate else "freshness-flood"
        for target, publish in fresh_targets:
            runs["freshness"].append((name, "freshness", target, publish, dict(
                clients=300 if quick else 1000, symbols=10, subs_per_client=1, rate=rate,
                publishers=pubs(publish), duration_s=dur, drain_s=drain)))
    # memory (pinned): idle subscribed connections, the same counts for every target.
    for n in ([300, 600] if quick else MEMORY_CONNECTIONS):
        for target in ["gateway"] + PEERS:
            runs["memory"].append((f"memory-{n // 1000}k" if n >= 1000 else f"memory-{n}",
                                   "memory", target, "none", dict(
                clients=n, symbols=10, subs_per_client=1, duration_s=0, drain_s=0,
                connect_timeout_s=240)))
    # cluster: books published into node A cross one Redis to subscribers on node B, at two
    # paced loads and flat out; each load also on one node without Redis, for the latency
    # the cluster adds. One subscriber per symbol, so messages received = books crossing Redis.
    for rate in (CLUSTER_RATE, CLUSTER_HIGH_RATE, 0):
        name = f"cluster-{rate // 1000}k" if rate else "cluster-flat"
        for target in ("gateway-1cpu", "cluster"):
            runs["cluster"].append((name, "cluster", target, "grpc", dict(
                clients=10, symbols=10, subs_per_client=1, rate=rate,
                publishers=GRPC_PUBLISHERS, duration_s=dur, drain_s=drain)))
    return runs


# ---------------------------------------------------------------- report


def bun_version():
    """The bun-uws peer's pinned runtime version (its package.json), without installing it."""
    try:
        with open(os.path.join(PEERS_DIR, "bun-uws", "package.json")) as f:
            return json.load(f)["dependencies"]["bun"]
    except (OSError, ValueError, KeyError):
        return "n/a"


def machine_info():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])

    def version(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "n/a"

    commit = version(["git", "-C", REPO_ROOT, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", REPO_ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": version(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": version([PYTHON, "--version"]),
        "node": version(["node", "--version"]),
        "bun": bun_version(),
        "fd_hard_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    }


def fmt_int(x):
    return "—" if x is None else f"{x:,.0f}"


def fmt_ms(us):
    if us is None:
        return "—"
    return f"{us / 1000:.2f}" if us < 10000 else f"{us / 1000:,.0f}"


def fmt_ratio(x):
    return "—" if x is None else (f"{x:.1f}×" if x < 100 else f"{x:,.0f}×")


def ok(r):
    return r is not None and "delivered_per_s" in r


def error_row(header, lead, message):
    """A table row for a failed run: its leading cells, the error, then empty
    cells up to the width of the table's `header` line."""
    cells = [str(c) for c in lead] + [f"ERROR: {message}"]
    width = header.count("|") - 1
    return "| " + " | ".join(cells + [""] * max(width - len(cells), 0)) + " |"


def find(results, scenario, target, publish):
    for r in results:
        if r.get("scenario") == scenario and r.get("target") == target and \
                r.get("publish") == publish:
            return r
    return None


def ratios(results, r):
    """[gateway / peer for each of PEERS] for a gateway row (None where not measured)."""
    if not ok(r) or r.get("target") != "gateway":
        return [None] * len(PEERS)
    out = []
    for peer in PEERS:
        p = find(results, r["scenario"], peer, "http")
        if r.get("publish") == "none":
            # connections: peer RSS per connection / gateway RSS per connection
            g_b, p_b = r.get("rss_bytes_per_connection"), (p or {}).get("rss_bytes_per_connection")
            out.append(p_b / g_b if ok(p) and g_b and p_b else None)
        else:
            pd = (p or {}).get("delivered_per_s")
            out.append(r["delivered_per_s"] / pd if ok(p) and pd else None)
    return out


def table_rows(results, scenario_filter):
    header = ("| scenario | target | clients (connected) | offered books/s | published books/s "
              "| delivered msg/s | loss % | p50 ms | p99 ms | max ms | server CPU % "
              "| server RSS peak MB | " + " | ".join(f"×{p}" for p in PEERS) + " |\n"
              "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
              + " | ".join("---:" for _ in PEERS) + " |")
    lines = [header]
    for r in results:
        if not scenario_filter(r):
            continue
        label = TARGETS.get((r.get("target"), r.get("publish")),
                            r.get("label") or f"{r.get('target')} (idle)")
        if r.get("publish") == "none":
            label = r.get("target")
        if not ok(r):
            lines.append(error_row(lines[0], [r.get('scenario'), label], r.get('error', '?')))
            continue
        lat = r.get("latency_us", {})
        idle = r.get("publish") == "none"
        offered = r.get("offered_rate") or 0
        lines.append("| " + " | ".join([
            r["scenario"], label + (" ⚠" if r.get("error") else "")
            + (" †" if r.get("cpu_busy_before_pct", 0) > 25 else "")
            + (" ‡" if r.get("pinned") and r.get("group") not in PINNED_GROUPS else ""),
            f"{r.get('clients'):,} ({r.get('connected'):,})",
            "—" if idle else ("flat out" if offered == 0 else fmt_int(offered)),
            "—" if idle else fmt_int(r.get("publish_rate")),
            "—" if idle else fmt_int(r.get("delivered_per_s")),
            "—" if idle or r.get("clients") == 0 else f"{r.get('loss_pct', 0):.2f}",
            "—" if idle or not r.get("latency_samples") else fmt_ms(lat.get("p50")),
            "—" if idle or not r.get("latency_samples") else fmt_ms(lat.get("p99")),
            "—" if idle or not r.get("latency_samples") else fmt_ms(lat.get("max")),
            "—" if idle else f"{r.get('server_cpu_pct', 0):.0f}",
            f"{r.get('server_rss_kb_peak', 0) / 1024:.0f}"]
            + [fmt_ratio(x) for x in ratios(results, r)]) + " |")
    return "\n".join(lines)


def baseline_rows(results):
    """New gateway vs the --baseline binary, scenario by scenario."""
    lines = ["| scenario | path | delivered msg/s new (ingest: accepted/s) | baseline "
             "| new / baseline | p99 ms new "
             "| baseline | server CPU % new | baseline | RSS per connection new | baseline |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for b in results:
        if b.get("target") != "gateway-baseline":
            continue
        r = find(results, b.get("scenario"), "gateway", b.get("publish"))
        if not (ok(r) and ok(b)):
            lines.append(error_row(lines[0], [b.get('scenario'), b.get('publish')],
                                   (r or {}).get('error', '') or b.get('error', '?')))
            continue
        idle = b.get("publish") == "none"
        per_conn = lambda x: (f"{x.get('rss_bytes_per_connection', 0) / 1024:.2f} KB"
                              if x.get("rss_bytes_per_connection") else "—")
        # ingest has no subscribers: its figure is the books accepted per second.
        key = "publish_rate" if b.get("group") == "ingest" else "delivered_per_s"
        rd, bd = r.get(key) or 0, b.get(key) or 0
        lines.append("| " + " | ".join([
            b["scenario"], b["publish"],
            "—" if idle else fmt_int(rd), "—" if idle else fmt_int(bd),
            "—" if idle or not bd else f"{rd / bd:.2f}",
            "—" if idle else fmt_ms(r.get("latency_us", {}).get("p99")),
            "—" if idle else fmt_ms(b.get("latency_us", {}).get("p99")),
            "—" if idle else f"{r.get('server_cpu_pct', 0):.0f}",
            "—" if idle else f"{b.get('server_cpu_pct', 0):.0f}",
            per_conn(r), per_conn(b)]) + " |")
    return "\n".join(lines)


def deflate_rows(results):
    """The permessage-deflate comparison: plain vs compressed clients."""
    lines = ["| run | clients | delivered msg/s | p50 ms | p99 ms | server CPU % | "
             "server RSS peak MB | wire bytes / message | RSS per idle connection |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        if r.get("group") != "deflate":
            continue
        label = "deflate" if r.get("target") == "gateway-deflate" else "plain"
        if not ok(r):
            lines.append(error_row(lines[0], [f"{r.get('scenario')} {label}"],
                                   r.get('error', '?')))
            continue
        idle = r.get("publish") == "none"
        lat = r.get("latency_us", {})
        lines.append("| " + " | ".join([
            f"{r['scenario']} {label}" + (" ⚠" if r.get("error") else ""),
            f"{r.get('connected', 0):,} ({r.get('deflate_negotiated', 0):,} negotiated)",
            "—" if idle else fmt_int(r.get("delivered_per_s")),
            "—" if idle else fmt_ms(lat.get("p50")),
            "—" if idle else fmt_ms(lat.get("p99")),
            "—" if idle else f"{r.get('server_cpu_pct', 0):.0f}",
            f"{r.get('server_rss_kb_peak', 0) / 1024:.0f}",
            "—" if idle else f"{r.get('wire_bytes_per_message', 0):,.0f}",
            f"{r.get('rss_bytes_per_connection', 0) / 1024:.2f} KB" if idle else "—"]) + " |")
    return "\n".join(lines)


def freshness_rows(results):
    """The freshness scenario: age of the delivered books per offered load and target."""
    lines = ["| offered books/s | target | published books/s | delivered msg/s "
             "| books/s per subscriber | age p50 ms | age p99 ms | age max ms "
             "| loss (conflated) % | server CPU % "
             "| gateway: hub_conflated, hub_conflated_in_batch, messages_conflated, "
             "session_conflated_age, messages_dropped |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        if r.get("group") != "freshness":
            continue
        label = TARGETS.get((r.get("target"), r.get("publish")), r.get("target"))
        offered = r.get("offered_rate") or 0
        rate = "flood" if offered == 0 else fmt_int(offered)
        if not ok(r):
            lines.append(error_row(lines[0], [rate, label], r.get('error', '?')))
            continue
        lat = r.get("latency_us", {})
        gs = r.get("gateway_stats")
        lines.append("| " + " | ".join([
            rate, label + (" ⚠" if r.get("error") else "")
            + (" †" if r.get("cpu_busy_before_pct", 0) > 25 else ""),
            fmt_int(r.get("publish_rate")), fmt_int(r.get("delivered_per_s")),
            fmt_int(books_per_subscriber(r)),
            fmt_ms(lat.get("p50")), fmt_ms(lat.get("p99")), fmt_ms(lat.get("max")),
            f"{r.get('loss_pct', 0):.2f}", f"{r.get('server_cpu_pct', 0):.0f}",
            "—" if not gs else
            ", ".join(f"{gs.get(k, 0):,}" for k in (
                "hub_conflated", "hub_conflated_in_batch", "messages_conflated",
                "session_conflated_age", "messages_dropped"))]) + " |")
    return "\n".join(lines)


def memory_rows(results):
    """The memory scenario: RSS per idle subscribed connection, per target and count."""
    lines = ["| connections | target | connected | connect s | RSS idle MB | RSS connected MB "
             "| KB per connection | × gateway |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        if r.get("group") != "memory":
            continue
        if not ok(r):
            lines.append(error_row(lines[0], [r.get('scenario'), r.get('target')],
                                   r.get('error', '?')))
            continue
        g = find(results, r["scenario"], "gateway", "none")
        g_b, b = (g or {}).get("rss_bytes_per_connection"), r.get("rss_bytes_per_connection")
        lines.append("| " + " | ".join([
            fmt_int(r.get("clients")), r["target"] + (" ⚠" if r.get("error") else "")
            + (" †" if r.get("cpu_busy_before_pct", 0) > 25 else ""),
            fmt_int(r.get("connected")), f"{r.get('connect_s', 0):.1f}",
            f"{r.get('server_rss_kb_idle', 0) / 1024:.0f}",
            f"{r.get('server_rss_kb_connected', 0) / 1024:.0f}",
            "—" if b is None else f"{b / 1024:.2f}",
            "—" if r["target"] == "gateway" or not (ok(g) and g_b and b) else
            f"{b / g_b:.1f}×"]) + " |")
    return "\n".join(lines)


def books_per_subscriber(r):
    """Books/s one subscriber received: delivered messages/s / subscribers per symbol."""
    per_symbol = r.get("clients", 0) * r.get("subs_per_client", 0) / max(r.get("symbols", 1), 1)
    return r["delivered_per_s"] / per_symbol if per_symbol else None


def cluster_rows(results):
    """The cluster scenario: each run, and what it adds over one node at the same load."""
    lines = ["| run | layout | offered books/s | published books/s | books/s received per "
             "subscriber | loss % | p50 ms | p99 ms | max ms | p50 added ms | p99 added ms "
             "| CPU % of one core while publishing "
             "| node A: Redis timeouts, books ordered locally, conflated |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- "
             "| ---: |"]
    for r in results:
        if r.get("group") != "cluster":
            continue
        label = TARGETS.get((r.get("target"), r.get("publish")), r.get("target"))
        if not ok(r):
            lines.append(error_row(lines[0], [r.get('scenario'), label], r.get('error', '?')))
            continue
        lat = r.get("latency_us", {})
        single = find(results, r["scenario"], "gateway-1cpu", r.get("publish"))
        node_a = r.get("cluster_stats", {}).get("node-a")

        def added(key):
            if r.get("target") != "cluster" or not ok(single):
                return "—"
            return f"{(lat.get(key, 0) - single['latency_us'].get(key, 0)) / 1000:+.2f}"
        cpu = r.get("process_cpu_pct", {})
        offered = r.get("offered_rate") or 0
        lines.append("| " + " | ".join([
            r["scenario"], label + (" ⚠" if r.get("error") else "")
            + (" †" if r.get("cpu_busy_before_pct", 0) > 25 else ""),
            "flat out" if offered == 0 else fmt_int(offered),
            fmt_int(r.get("publish_rate")), fmt_int(books_per_subscriber(r)),
            f"{r.get('loss_pct', 0):.2f}",
            fmt_ms(lat.get("p50")), fmt_ms(lat.get("p99")), fmt_ms(lat.get("max")),
            added("p50"), added("p99"),
            ", ".join(f"{name} {pct:.0f}" for name, pct in cpu.items()),
            "—" if node_a is None else
            f"{node_a.get('redis.timeouts', 0):,}, "
            f"{node_a.get('redis.books_sequenced_locally', 0):,}, "
            f"{node_a.get('redis.broker_conflated', 0):,}"]) + " |")
    return "\n".join(lines)


def goals(results):
    """(goal, measured, target text, verdict) rows."""
    rows = []

    def verdict(value, good):
        if value is None:
            return "not measured"
        return "**met**" if good else "**missed**"

    for publish in ("http", "grpc"):
        g = find(results, "fanout-1k", "gateway", publish)
        path = "HTTP" if publish == "http" else "gRPC"
        rp, rn, _ = ratios(results, g)
        loss = g.get("loss_pct", 0) if ok(g) else 0
        caveat = (f" — but {loss:.1f} % of the expected messages were conflated away"
                  if loss > 1 else "")
        rows.append((f"fanout-1k delivered/s vs python-seed, gateway over {path}",
                     fmt_ratio(rp), "≥ 10×", verdict(rp, rp is not None and rp >= 10) + caveat))
        rows.append((f"fanout-1k delivered/s vs node-ws, gateway over {path}",
                     fmt_ratio(rn), "≥ 5×", verdict(rn, rn is not None and rn >= 5) + caveat))
        p99 = g["latency_us"]["p99"] if ok(g) else None
        rows.append((f"fanout-1k p99 (publishers flat out), gateway over {path}",
                     f"{fmt_ms(p99)} ms", "≤ 2 ms", verdict(p99, p99 is not None and p99 <= 2000)))
    best = None
    for publish in ("http", "grpc"):
        g = find(results, "mixed-200", "gateway", publish)
        if ok(g) and (best is None or g["delivered_per_s"] > best["delivered_per_s"]):
            best = g
    d = best["delivered_per_s"] if best else None
    rows.append(("mixed-200 delivered/s (flat out, best path"
                 + (f": {best['publish'].upper().replace('GRPC', 'gRPC')})" if best else ")"),
                 fmt_int(d), "≥ 500,000", verdict(d, d is not None and d >= 500000)
                 + (f" — but {best['loss_pct']:.1f} % of the expected messages were conflated away"
                    if best and best.get("loss_pct", 0) > 1 else "")))
    for publish in ("http", "grpc"):
        g = find(results, "sweep-50k", "gateway", publish)
        p99 = g["latency_us"]["p99"] if ok(g) else None
        path = "HTTP" if publish == "http" else "gRPC"
        reached = f" (reached {fmt_int(g['publish_rate'])} books/s)" if ok(g) else ""
        rows.append((f"mixed-200 p99 at 50k books/s offered, gateway over {path}{reached}",
                     f"{fmt_ms(p99)} ms", "≤ 0.5 ms",
                     verdict(p99, p99 is not None and p99 <= 500
                             and g["publish_rate"] >= 0.95 * 50000)))
    for publish in ("http", "grpc"):
        g = find(results, "per-core-fanout-1k", "gateway", publish)
        rb = ratios(results, g)[PEERS.index("bun-uws")] if ok(g) else None
        path = "HTTP" if publish == "http" else "gRPC"
        rows.append((f"per core (pinned): fanout-1k delivered/s vs bun-uws, gateway over {path}",
                     fmt_ratio(rb)
                     + (f" ({fmt_int(g['delivered_per_s'])} msg/s)" if ok(g) else ""),
                     "≥ 2×", verdict(rb, rb is not None and rb >= 2)))
    # Freshness (issue 10): the age of delivered books, flooded and at 100k deliveries/s.
    for scenario, label, limit_ms in (("freshness-flood", "flooded", 100),
                                      ("freshness-1000", "paced at 100k deliveries/s", 20)):
        for publish in ("grpc", "http"):
            g = find(results, scenario, "gateway", publish)
            p99 = g["latency_us"]["p99"] if ok(g) else None
            path = "HTTP" if publish == "http" else "gRPC"
            rows.append((f"freshness (pinned): age p99 of delivered books, {label}, gateway over "
                         f"{path}", f"{fmt_ms(p99)} ms", f"≤ {limit_ms} ms",
                         verdict(p99, p99 is not None and p99 <= limit_ms * 1000)))
    m = find(results, "memory-15k", "gateway", "none")
    b = m.get("rss_bytes_per_connection") if ok(m) else None
    n = m.get("connected") if ok(m) else None
    rows.append(("memory (pinned): RSS per idle connection at 15,000 connections",
                 "—" if b is None else f"{b / 1024:.2f} KB"
                 + (f" (only {n:,} connected)" if n != 15000 else ""),
                 "≤ 3 KB", verdict(b, b is not None and b <= 3 * 1024 and n == 15000)))
    c = find(results, "connections", "gateway", "none")
    n = c.get("connected") if ok(c) else None
    rows.append(("connections: concurrent idle clients", fmt_int(n), "≥ 15,000",
                 verdict(n, n is not None and n >= 15000)))
    b = c.get("rss_bytes_per_connection") if ok(c) else None
    rows.append(("connections: RSS per idle connection",
                 "—" if b is None else f"{b / 1024:.2f} KB", "≤ 3 KB",
                 verdict(b, b is not None and b <= 3 * 1024)))
    i = find(results, "ingest", "gateway", "grpc")
    u = i.get("publish_rate") if ok(i) else None
    rows.append(("ingest: 10-level updates/s accepted on one gRPC stream", fmt_int(u),
                 "≥ 500,000", verdict(u, u is not None and u >= 500000)))
    for batch in INGEST_BATCH_SIZES:
        i = find(results, f"ingest-batch-{batch}", "gateway", "grpc-batch")
        u = i.get("publish_rate") if ok(i) else None
        rows.append((f"ingest (pinned): 10-level books/s accepted on one PublishBatch stream, "
                     f"{batch} books a message", fmt_int(u), "≥ 500,000",
                     verdict(u, u is not None and u >= 500000)))
    # Throughput: the best cluster run that lost at most 1 % of its books (paced at
    # CLUSTER_HIGH_RATE or flat out), else the best of all, with its loss.
    runs = [r for r in results if r.get("group") == "cluster" and r.get("target") == "cluster"
            and ok(r) and r.get("offered_rate", 1) in (0, CLUSTER_HIGH_RATE)]
    clean = [r for r in runs if r.get("loss_pct", 0) <= 1]
    f = max(clean or runs, key=books_per_subscriber, default=None)
    n = books_per_subscriber(f) if f else None
    loss = f.get("loss_pct", 0) if f else 0
    rows.append(("cluster: books/s from node A to a subscriber on node B through one Redis"
                 + (f" ({f['scenario']})" if f else ""), fmt_int(n), "≥ 50,000",
                 verdict(n, n is not None and n >= 50000)
                 + (f" — with {loss:.1f} % of the books lost" if loss > 1 else "")))
    c = find(results, f"cluster-{CLUSTER_RATE // 1000}k", "cluster", "grpc")
    one = find(results, f"cluster-{CLUSTER_RATE // 1000}k", "gateway-1cpu", "grpc")
    added = (c["latency_us"]["p99"] - one["latency_us"]["p99"]) if ok(c) and ok(one) else None
    rows.append((f"cluster: p99 added over one node at {CLUSTER_RATE:,} books/s (A → Redis → B)",
                 "—" if added is None else f"{added / 1000:+.2f} ms", "≤ 2 ms",
                 verdict(added, added is not None and added <= 2000)))
    return rows


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    styles = {"gateway (HTTP)": "o-", "gateway (gRPC)": "s-", "python-seed": "^--",
              "node-ws": "v--", "bun-uws": "D--"}
    for (target, publish), label in TARGETS.items():
        pts = sorted((r["offered_rate"], r) for r in results
                     if r.get("group") == "sweep" and r.get("target") == target
                     and r.get("publish") == publish and ok(r))
        if not pts:
            continue
        xs = [p[0] for p in pts]
        ax1.plot(xs, [p[1]["delivered_per_s"] for p in pts], styles[label], label=label)
        ax2.plot(xs, [max(p[1]["latency_us"]["p99"], 1) / 1000 for p in pts], styles[label],
                 label=label)
    ideal = sorted({r["offered_rate"] for r in results if r.get("group") == "sweep"})
    if ideal:
        ax1.plot(ideal, [x * 50 for x in ideal], ":", color="grey",
                 label="offered × 50 subscribers")
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("offered load (books/s, mixed-200: 200 clients, 5 of 20 symbols)")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    ax1.set_ylabel("delivered messages/s")
    ax1.set_title("Delivered messages/s vs offered load")
    ax2.set_ylabel("p99 end-to-end latency (ms)")
    ax2.axhline(0.5, color="red", lw=0.8, ls=":")
    ax2.set_title("p99 latency vs offered load (red: 0.5 ms goal)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_freshness(results, path):
    """Age p99 of the delivered books (log y) against offered books/s, one line per target;
    the flood runs at the right, past the paced loads. False when there is nothing to plot."""
    runs = [r for r in results if r.get("group") == "freshness" and ok(r)]
    if not runs:
        return False
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paced = sorted({r["offered_rate"] for r in runs if r.get("offered_rate")})
    flood_x = (paced[-1] * 3) if paced else 1
    fig, ax = plt.subplots(figsize=(8, 4.8))
    styles = ["s-", "o-", "^--", "v--", "D--"]
    for n, ((target, publish), label) in enumerate(
            (k, v) for k, v in TARGETS.items()
            if any(r["target"] == k[0] and r["publish"] == k[1] for r in runs)):
        pts = sorted((r.get("offered_rate") or flood_x, max(r["latency_us"]["p99"], 1) / 1000)
                     for r in runs if r["target"] == target and r["publish"] == publish)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], styles[n % len(styles)], label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = paced + [flood_x]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:,.0f}" for t in paced] + ["flood"])
    ax.minorticks_off()
    ax.set_xlabel("offered books/s (1,000 clients, 1 of 10 symbols: × 100 deliveries)")
    ax.set_ylabel("age p99 of delivered books (ms)")
    ax.set_title("Freshness per core: book age p99 vs offered load")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


ANALYSIS_BEGIN = "<!-- analysis:begin (kept verbatim when the runner regenerates this file) -->"
ANALYSIS_END = "<!-- analysis:end -->"
ANALYSIS_PLACEHOLDER = """\
_TODO(lead): explain each gap in the goals table from a profile (perf record of
the gateway and of the loadgen during fanout-1k and mixed-200): where the cycles go,
what bounds delivered/s on 2 cores shared with the load generator, and what would
change it._
"""


def baseline_section(results):
    if not any(r.get("target") == "gateway-baseline" for r in results):
        return ""
    binary = next((r.get("baseline_binary") for r in results if r.get("baseline_binary")), "?")
    return f"""## Against the baseline binary (`--baseline`)

The same scenarios against another build of the gateway (`{binary}`), each run right after
the run it repeats, so both see the same machine state.

{baseline_rows(results)}

"""


def write_doc(results, machine, out_dir, quick, elapsed_s, invocation=ONE_COMMAND):
    md_path = os.path.join(out_dir, "performance.md")
    analysis = ANALYSIS_PLACEHOLDER
    if os.path.exists(md_path):
        text = open(md_path).read()
        if ANALYSIS_BEGIN in text and ANALYSIS_END in text:
            analysis = text.split(ANALYSIS_BEGIN, 1)[1].split(ANALYSIS_END, 1)[0].strip("\n") + "\n"

    def in_group(*groups):
        return lambda r: r.get("group") in groups

    commands = []
    for r in results:
        commands.append(f"{r.get('scenario'):<12} {TARGETS.get((r.get('target'), r.get('publish')), r.get('target')):<15} "
                        f"{r.get('command', '')}")
    busy = [r.get("cpu_busy_before_pct", 0) for r in results]
    goal_rows = "\n".join(f"| {g} | {m} | {t} | {v} |" for g, m, t, v in goals(results))
    quick_note = ("\n> **QUICK RUN (`--quick`): tiny durations and client counts; these figures are a "
                  "smoke check, not measurements.**\n" if quick else "")
    m = machine
    doc = f"""# Performance: the gateway side by side with the peers

_Generated by `tests/bench/run_benchmarks.py` on {m['date']}; do not edit by hand except
between the analysis markers (kept across runs). Raw results: [`performance-results.jsonl`](performance-results.jsonl)._
{quick_note}
## Reproduce

From a clean clone (with `../shared/peers/` next to it), one command builds what is missing
(`deploy/build.sh`), starts every server, runs every scenario and rewrites this page, its plot and
the raw results:

```sh
{ONE_COMMAND}
```

`--only SCENARIO` (one of {", ".join(f"`{s}`" for s in SCENARIOS)}) reruns one scenario and keeps
the stored results of the others; `--pinned` runs every selected scenario per core (below; the
{", ".join(f"`{g}`" for g in SCENARIOS if g in PINNED_GROUPS)} scenarios always are); `--quick` is a one-minute smoke check that writes to
`build/bench-quick/` instead of `docs/`. The last invocation (`{invocation}`) took
{elapsed_s / 60:.1f} min.

## Machine

| | |
| --- | --- |
| CPU | {m['cpu']} |
| cores (nproc) | {m['cores']} |
| memory | {m['memory_gb']} GB |
| OS, kernel | {m['os']}, Linux {m['kernel']} |
| gateway commit | {m['commit']} (Release build) |
| peers | python-seed: FastAPI + uvicorn on {m['python']}; node-ws: ws 8.18.3 on Node {m['node']}; bun-uws: Bun {m['bun']} (uWebSockets pub/sub) |
| fd hard limit | {m['fd_hard_limit']:,} |
| other CPU use in the second before each run | {min(busy) if busy else 0:.0f} – {max(busy) if busy else 0:.0f} % of the machine (median {sorted(busy)[len(busy) // 2] if busy else 0:.0f} %) |

Everything runs on this one machine: the server under test **and** the load generator
(`orderbook-loadgen`: two threads read the WebSocket clients, more publish) share the
{m['cores']} cores. The figures are therefore a lower bound on what the server would do alone,
and the same bound applies to every target. Before each run the runner waits (up to 60 s) for
the machine to be quiet (< 25 % CPU used by anything else) and records what it saw.

## How it is measured

- Every run starts the server fresh (gateway: `orderbook-gateway --bind=127.0.0.1 --http_port=0
  --grpc_port=0 --log_level=warn`, default `--threads` = cores; python-seed: `/usr/bin/python3
  main.py --port P`; node-ws: `npm ci --omit=dev && node server.js --port P`; bun-uws:
  `npm ci --omit=dev && ./node_modules/.bin/bun server.ts --port P`), with its soft fd
  limit raised to the hard limit, waits for `GET /health`, runs `orderbook-loadgen` once and kills it.
- **Per core (pinned)**: every server on CPU {SERVER_CPU} (`taskset -c {SERVER_CPU}`, the gateway with
  `--threads=1`; taskset also holds every thread a peer starts), the loadgen on CPU {LOADGEN_CPU}
  (`taskset -c {LOADGEN_CPU}`): each server has exactly one core and never competes with the load
  generator for it. The per-core, freshness and memory scenarios always run so; rows of other
  scenarios run with `--pinned` are marked ‡.
- `orderbook-loadgen` connects the WebSocket clients, subscribes them, then publishes 10-level
  books for the duration, over HTTP (`POST /broadcast/orderbook`, {HTTP_PUBLISHERS} keep-alive
  connections, each sending its next book when the previous reply arrives, or at its share of the
  offered rate) or over gRPC ({GRPC_PUBLISHERS} `Publish` streams; 1 for ingest). The peers only
  have the HTTP path; the gateway is measured on both.
- **delivered msg/s** = `orderbook_update` messages received by all clients / publishing time.
  **loss %** = messages expected (books accepted × subscribers of the symbol) but not received
  within the drain time. For the gateway, loss under overload is **conflation**: a client that
  falls behind gets the newest book of a symbol instead of every intermediate one (by design;
  books are full snapshots).
- **latency** = client receive time − the send timestamp the publisher put in the book, over every
  received message (same clock, same host).
- **server CPU %** (100 = one core) and **RSS** come from `/proc/<pid>` of the server during the
  run. **RSS per connection** = (RSS with every client connected and subscribed − RSS before) /
  clients.

## Results

One row per scenario × target († = the machine was still busy with something else when the run
started; ⚠ = the loadgen reported an error, see the raw results; ‡ = pinned, one core for the
server). Ratio columns: gateway / peer delivered msg/s in the same scenario
(for `connections`: peer RSS per connection / gateway RSS per connection).

- **fanout-1k**: 1,000 clients, 10 symbols, 1 each (100 subscribers per symbol), publishers flat out.
- **mixed-200**: 200 clients, 5 of 20 symbols each (50 subscribers per symbol), publishers flat out.
- **connections**: idle clients, each subscribed to 1 of 10 symbols, nothing published; the gateway
  is asked for as many as the fd limit allows (capped at 15,000), the peers for at most 5,000
  to keep the run short; their per-connection RSS is already clear at that size).
- **ingest**: gRPC only, no subscribers, one stream flat out; "published" = updates accepted/s.
  `ingest` writes one book per `Publish` message; `ingest-batch-N` writes N books per
  `PublishBatch` message (`orderbook-loadgen --publish=grpc-batch --batch_size=N`), pinned (‡:
  the gateway on CPU {SERVER_CPU} with `--threads=1`, the publisher on CPU {LOADGEN_CPU}).
- **cluster**: two nodes on one Redis, its own section below.

{table_rows(results, in_group("fanout-1k", "mixed-200", "connections", "ingest"))}

RSS per idle connection (connections scenario):
{chr(10).join(f"- {r['target']}: {r.get('connected', 0):,} connected in {r.get('connect_s', 0):.1f} s, "
              f"{r.get('rss_bytes_per_connection', 0) / 1024:.2f} KB per connection "
              f"(RSS {r.get('server_rss_kb_idle', 0) / 1024:.0f} MB → {r.get('server_rss_kb_connected', 0) / 1024:.0f} MB)"
              for r in results if r.get("group") == "connections" and ok(r))}

## Latency sweep (mixed-200 topology, fixed offered loads)

Offered books/s over all publishers; each book goes to 50 subscribers, so the ideal delivered
rate is 50 × offered. "published" shows what the server actually accepted when it could not
keep up with the offered rate (HTTP publishers wait for each reply, so a slow server slows them).

{table_rows(results, in_group("sweep"))}

![delivered/s and p99 latency vs offered load](performance.png)

## permessage-deflate (`--ws_deflate`)

The mixed-200 topology at a moderate load (1,000 books/s of 20 levels a side, 50 subscribers
each: 50,000 messages/s), over gRPC, once with plain clients and once with clients that offer
permessage-deflate (`orderbook-loadgen --deflate`, which inflates every message as a browser
would; its inflating shares the 2 cores). Then idle connections of each kind, for memory.
The gateway compresses each frame once (zlib level 1, frames of 256 bytes and more) and sends
the same bytes to every compressing client, so its CPU cost grows with books published, not
with subscribers.

{deflate_rows(results)}

## Cluster: two nodes on one Redis (`--redis_url`)

One `redis-server` (no persistence) and two gateways on it (`--threads=1 --redis_url=...`); the
loadgen connects its 10 clients (1 of 10 symbols each: one subscriber per symbol) to **node B**
and publishes over gRPC ({GRPC_PUBLISHERS} streams) into **node A** (`--publish_grpc_port`), so
every book goes A → EVALSHA on Redis (seq, last book, PUBLISH) → B's subscriber connection → B's
hub → the client, paced at {CLUSTER_RATE:,} and {CLUSTER_HIGH_RATE:,} books/s and flat out. The reference
rows run the same load on **one node without Redis**. "p50/p99 added" = cluster − one node, same
offered load; loss = books A accepted that B's client never got. Under overload they are books
A conflated while Redis was behind (`redis.broker_conflated`: a newer book of the same symbol took
the place of one waiting to be sent, so B's client got fewer books but never a stale one); Redis
timeouts or books ordered locally on A (which B never sees) would mean Redis stalled.

Pinning (`taskset`): every server process — `redis-server`, node A and node B, or the single
node — on CPU {SERVER_CPU}, the loadgen on CPU {LOADGEN_CPU}. The cluster's three processes (A's hub, Redis
and I/O threads, Redis, B's Redis, hub and I/O threads) thus share **one core** where the single
node has it alone: each book costs the cluster several context switches on that core, and its
added latency includes waiting for the core. On separate machines each node and Redis would have
its own CPU (plus two LAN hops, ~50–100 µs each), so the throughput here is a lower bound and
the added latency an upper bound of what the same binaries do spread out. The CPU column (each
process, % of one core, while publishing) shows when CPU {SERVER_CPU} itself was the limit: the three
cluster processes together near 100 %.

{cluster_rows(results)}

## Per core (pinned): one core for each server

fanout-1k and mixed-200 (topologies above, publishers flat out) with every server on CPU
{SERVER_CPU} alone and the loadgen on CPU {LOADGEN_CPU}: what one core of each stack delivers, the
comparison DESIGN.md asks for (the whole-machine tables above let the gateway's shards and the load
generator fight over both cores). Ratio columns: gateway / peer, same scenario, same pinning.

{table_rows(results, in_group("per-core"))}

## Freshness: how old are the delivered books (pinned)

1,000 clients, each subscribed to 1 of 10 symbols (100 subscribers a symbol), per core as
above, at paced loads ({", ".join(f"{x:,}" for x in FRESHNESS_RATES if x)} books/s offered over
the 10 symbols; 1,000 books/s = 100,000 deliveries/s) and under a flood (publishers flat out for
the run's duration). **age** = receive time − the time the publisher stamped into the book
(`send_time_ns`), over every delivered book: a conflating server delivers fewer books under
overload but each is the newest, so its age stays bounded; a server that queues every book
delivers all of them, ever later. **loss (conflated) %** = books the clients never got (for the
gateway: conflated away, the newest always kept). For the gateway, the last column reads its
`/stats` at the end of each run (gateway/metrics/gateway_stats.h): `hub_conflated` = books
replaced in the hub while an I/O thread was backlogged, `hub_conflated_in_batch` = books the hub
never rendered because a newer book of the symbol came in the same batch while it was behind,
`messages_conflated` = books replaced in a connection's full queue by a newer book of the symbol,
`session_conflated_age` = replaced because the queue's oldest book was older than
`--session_queue_max_age_ms`, `messages_dropped` = dropped from a full queue (none expected:
conflation keeps queues bounded).

{freshness_rows(results)}

![age p99 of delivered books vs offered load](freshness.png)

## Memory per connection (pinned)

Idle WebSocket clients, each subscribed to 1 of 10 symbols, nothing published (`orderbook-loadgen
--publish=none`), {" and ".join(f"{n:,}" for n in MEMORY_CONNECTIONS)} of them against every
server, per core as above. **KB per connection** = (server RSS with every client connected and
subscribed − RSS before the first) / connected clients; × gateway = peer / gateway.

{memory_rows(results)}

{baseline_section(results)}## Goals

| goal | measured | target | verdict |
| --- | ---: | ---: | --- |
{goal_rows}

## Analysis

{ANALYSIS_BEGIN}
{analysis}{ANALYSIS_END}

## Commands of this run

Each run: `orderbook-loadgen --host=127.0.0.1 --http_port=P --grpc_port=G --server_pid=PID
--target=T --scenario=S` plus:

```
{chr(10).join(commands)}
```
"""
    with open(md_path, "w") as f:
        f.write(doc)
    return md_path


# ---------------------------------------------------------------- main


def reexec_with_matplotlib():
    """Runs under Debian's /usr/bin/python3 when this interpreter lacks matplotlib.

    A python3 first on PATH (pyenv, a venv) often has no python3-matplotlib, and the
    plot comes only after every scenario has run: better to switch interpreters now
    than to lose the run at its end."""
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    system = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(system) and os.path.exists(system):
        log(f"{sys.executable} has no matplotlib: running under {system}")
        os.execv(system, [system] + sys.argv)
    sys.exit("run_benchmarks.py: matplotlib is missing (apt-get install python3-matplotlib, "
             "or bash deploy/install-deps.sh)")


def main():
    reexec_with_matplotlib()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny durations: a smoke check")
    parser.add_argument("--only", choices=SCENARIOS, action="append",
                        help="run only this scenario (repeatable); others keep stored results")
    parser.add_argument("--out", help="output directory (default docs/, or "
                                      "$BUILD_DIR/bench-quick/ with --quick)")
    parser.add_argument("--pinned", action="store_true",
                        help="per core: every server on CPU 0 (gateway --threads=1), the loadgen "
                             "on CPU 1, in every selected scenario")
    parser.add_argument("--baseline", metavar="BIN",
                        help="also run every gateway scenario against this gateway binary "
                             "and report new / baseline")
    args = parser.parse_args()
    out_dir = args.out or (os.path.join(BUILD_DIR, "bench-quick") if args.quick
                           else os.path.join(REPO_ROOT, "docs"))
    os.makedirs(out_dir, exist_ok=True)
    jsonl = os.path.join(out_dir, "performance-results.jsonl")
    selected = args.only or SCENARIOS

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    env = Env()
    env.pinned = args.pinned
    atexit.register(env.cleanup)
    raise_fd_limit()
    started = time.time()
    all_runs = scenario_runs(args.quick)
    if args.baseline:
        if not os.access(args.baseline, os.X_OK):
            sys.exit(f"run_benchmarks: --baseline {args.baseline}: not an executable")
        env.baseline = os.path.abspath(args.baseline)
        all_runs = with_baseline(all_runs)
    plan = [run for group in selected for run in all_runs[group]]
    env.prepare(need_peers=any(run[2] in PEERS for run in plan))

    results = []
    for n, (scenario, group, target, publish, params) in enumerate(plan, 1):
        log(f"[{n}/{len(plan)}] ({time.time() - started:.0f} s)")
        try:
            results.append(run_one(env, scenario, group, target, publish, **params))
            if target == "gateway-baseline":
                results[-1]["baseline_binary"] = env.baseline
        except RuntimeError as e:  # a server that failed to start
            log(f"   ERROR {e}")
            results.append({"scenario": scenario, "group": group, "target": target,
                            "publish": publish, "error": str(e).splitlines()[0]})
        stop_all()

    # Keep the stored results of the scenarios not rerun.
    kept = []
    if args.only and os.path.exists(jsonl):
        with open(jsonl) as f:
            kept = [json.loads(l) for l in f if l.strip()]
        kept = [r for r in kept if r.get("group") not in selected]
    order = {g: i for i, g in enumerate(SCENARIOS)}
    merged = sorted(kept + results, key=lambda r: order.get(r.get("group"), 99))
    with open(jsonl, "w") as f:
        for r in merged:
            f.write(json.dumps(r) + "\n")
    elapsed = time.time() - started
    plot(merged, os.path.join(out_dir, "performance.png"))
    plot_freshness(merged, os.path.join(out_dir, "freshness.png"))
    md = write_doc(merged, machine_info(), out_dir, args.quick, elapsed,
                   " ".join([ONE_COMMAND] + sys.argv[1:]))
    log(f"== done in {elapsed / 60:.1f} min: {md}, {jsonl}, "
        f"{os.path.join(out_dir, 'performance.png')}, {os.path.join(out_dir, 'freshness.png')}")
    for g, m, t, v in goals(merged):
        log(f"   {v:>14}  {g}: {m} (goal {t})")
    return 1 if any(r.get("error") and "delivered_per_s" not in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
