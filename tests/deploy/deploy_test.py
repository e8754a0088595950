#!/usr/bin/python3
"""Checks of the deployment files in deploy/ with the tools that read them.

No Docker engine runs here, so the image is not built; what can be checked
without one is: the Dockerfile's structure (stages, every COPY source exists
and is not excluded by .dockerignore, the runtime packages are exactly those
of the built binaries' shared libraries, a non-root user, ports, health
check), `docker-compose config` of deploy/docker-compose.yml (Debian's
docker-compose 1.29) with the integration guide's .env, `nginx -t` of the
production site and its TLS example, `systemd-analyze verify` of the unit,
`promtool check` and `promtool test rules` of the monitoring files, the flag
table of docs/operations.md against `orderbook-gateway --help`, and
(ClusterMonitoringTest) deploy/cluster/run-cluster.sh with PROMETHEUS=1:
two nodes, Redis, nginx and Prometheus, both targets up through Prometheus'
HTTP API.

Run by CTest (tests/deploy/CMakeLists.txt) as
  /usr/bin/python3 -m unittest deploy_test.<Class>
with OBGW_BIN_DIR set to the build's bin/ directory.
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN_DIR = Path(os.environ.get("OBGW_BIN_DIR", ROOT / "build" / "bin"))
GATEWAY = BIN_DIR / "orderbook-gateway"


def run(args, timeout=60, **kwargs):
    """Runs a command to its end; stdout and stderr as text."""
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )


_help_cache = None


def gateway_flags():
    """{flag: (default text, env name)} from `orderbook-gateway --help`.

    A help line reads "  --name (default VALUE; env NAME[ or NAME_FILE])".
    """
    global _help_cache
    if _help_cache is None:
        result = run([GATEWAY, "--help"])
        if result.returncode != 0:
            raise AssertionError(f"--help exited {result.returncode}: {result.stderr}")
        flags = {}
        for line in result.stdout.splitlines():
            match = re.match(r"^  --([a-z0-9_]+) \(default (.*); env ([A-Z0-9_]+)", line)
            if match:
                flags[match.group(1)] = (match.group(2), match.group(3))
        if len(flags) < 20:
            raise AssertionError(f"--help listed only {len(flags)} flags:\n{result.stdout}")
        _help_cache = flags
    return _help_cache


def flag_default_int(name):
    text = gateway_flags()[name][0].strip('"')
    return int(text)


def secret_file_variables():
    """NAME_FILE variables of the secret flags (help: "env NAME or NAME_FILE")."""
    result = run([GATEWAY, "--help"])
    return set(re.findall(r"env [A-Z0-9_]+ or ([A-Z0-9_]+_FILE)", result.stdout))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ports_free(ports):
    sockets = []
    try:
        for port in ports:
            s = socket.socket()
            sockets.append(s)
            # TIME_WAIT remnants of closed connections do not count, listeners do.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        for s in sockets:
            s.close()


# ---------------------------------------------------------------- Dockerfile


class Dockerfile:
    """The instructions of a Dockerfile: (stage index, KEYWORD, arguments)."""

    def __init__(self, path):
        self.instructions = []
        self.stages = []  # (base image, name)
        logical = ""
        for raw in path.read_text().splitlines():
            stripped = raw.strip()
            if not logical and (not stripped or stripped.startswith("#")):
                continue
            if logical and stripped.startswith("#"):
                continue  # a comment inside a continued instruction
            if stripped.endswith("\\"):
                logical += stripped[:-1] + " "
                continue
            logical += stripped
            keyword, _, rest = logical.partition(" ")
            keyword = keyword.upper()
            if keyword == "FROM":
                words = rest.split()
                name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
                self.stages.append((words[0], name))
            self.instructions.append((len(self.stages) - 1, keyword, rest.strip()))
            logical = ""

    def of(self, keyword, stage=None):
        return [
            rest
            for index, key, rest in self.instructions
            if key == keyword and (stage is None or index == stage)
        ]


class DockerIgnore:
    """The exclusion patterns of a .dockerignore (Go filepath.Match + `**`)."""

    def __init__(self, path):
        self.patterns = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                self.patterns.append(line.strip("/"))

    @staticmethod
    def _matches(pattern, relative):
        regex, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            else:
                regex += {"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i]))
                i += 1
        return re.fullmatch(regex, relative) is not None

    def excludes(self, relative):
        """Whether the path (relative to the context) or a folder above it is excluded."""
        parts = Path(relative).parts
        excluded = False
        for pattern in self.patterns:
            negate = pattern.startswith("!")
            body = pattern[1:] if negate else pattern
            for depth in range(1, len(parts) + 1):
                if self._matches(body, "/".join(parts[:depth])):
                    excluded = not negate
                    break
        return excluded


def dpkg_file_owners():
    """{installed path: package} from dpkg's file lists (one read, no dpkg-query per file)."""
    owners = {}
    for listing in Path("/var/lib/dpkg/info").glob("*.list"):
        package = listing.name[: -len(".list")].split(":")[0]
        for line in listing.read_text(errors="replace").splitlines():
            owners[line] = package
    return owners


def shared_library_packages(binaries):
    """The Debian packages holding the shared libraries the binaries load (ldd)."""
    owners = dpkg_file_owners()
    packages = {}
    for binary in binaries:
        result = run(["ldd", binary])
        if result.returncode != 0:
            raise AssertionError(f"ldd {binary}: {result.stderr}")
        for line in result.stdout.splitlines():
            if "not found" in line:
                raise AssertionError(f"{binary}: a library is missing: {line.strip()}")
            match = re.search(r"(/\S+)", line)
            if not match:
                continue  # linux-vdso.so.1
            library = match.group(1)
            candidates = [library, os.path.realpath(library)]
            # Debian 12 is usr-merged: dpkg may know /lib/... or /usr/lib/...
            for path in list(candidates):
                candidates.append(path[len("/usr"):] if path.startswith("/usr/") else "/usr" + path)
            owner = next((owners[p] for p in candidates if p in owners), None)
            if owner is None:
                raise AssertionError(f"no Debian package holds {library} ({binary})")
            packages.setdefault(owner, set()).add(library)
    return packages


class DockerfileTest(unittest.TestCase):
    path = DEPLOY / "docker" / "Dockerfile"

    def setUp(self):
        self.docker = Dockerfile(self.path)

    def test_two_named_stages_on_debian_12(self):
        self.assertEqual(
            self.docker.stages, [("debian:12", "build"), ("debian:12-slim", "runtime")]
        )

    def test_build_stage_runs_the_repository_scripts(self):
        runs = " ".join(self.docker.of("RUN", stage=0))
        self.assertIn("bash deploy/install-deps.sh", runs)
        self.assertIn("bash deploy/build.sh", runs)
        self.assertIn("-DOBGW_BUILD_TESTS=OFF", runs)

    def test_copy_sources_exist_and_are_not_ignored(self):
        ignore = DockerIgnore(ROOT / ".dockerignore")
        # The matcher itself: what the file means to exclude, and what not.
        self.assertTrue(ignore.excludes("build/bin/orderbook-gateway"))
        self.assertTrue(ignore.excludes(".git/HEAD"))
        self.assertTrue(ignore.excludes("tests/browser/node_modules/x.js"))
        self.assertFalse(ignore.excludes("deploy/build.sh"))
        copies = 0
        for stage in range(len(self.docker.stages)):
            for rest in self.docker.of("COPY", stage=stage):
                words = rest.split()
                if any(w.startswith("--from=") for w in words):
                    continue
                sources = [w for w in words if not w.startswith("--")][:-1]
                for source in sources:
                    copies += 1
                    self.assertTrue((ROOT / source).exists(), f"COPY {source}: not in the repo")
                    if source != ".":
                        self.assertFalse(ignore.excludes(source), f"{source} is .dockerignored")
        self.assertGreaterEqual(copies, 2)
        # Everything the build stage runs travels in the context.
        for script in ["deploy/install-deps.sh", "deploy/build.sh", "CMakeLists.txt", "proto"]:
            self.assertFalse(ignore.excludes(script), script)

    def runtime_copies(self):
        """(source paths, destination) of the runtime stage's COPY --from."""
        names = [name for _, name in self.docker.stages]
        copies = []
        for rest in self.docker.of("COPY", stage=1):
            words = rest.split()
            source_stage = [w.split("=", 1)[1] for w in words if w.startswith("--from=")]
            self.assertEqual(len(source_stage), 1, rest)
            self.assertIn(source_stage[0], names[:1], "COPY --from names an earlier stage")
            paths = [w for w in words if not w.startswith("--")]
            copies.append((paths[:-1], paths[-1]))
        return copies

    def test_runtime_holds_gateway_feed_and_probe_from_the_build_dir(self):
        (sources, destination), = self.runtime_copies()
        self.assertEqual(
            sorted(Path(s).name for s in sources),
            ["orderbook-feed", "orderbook-gateway", "orderbook-probe"],
        )
        for source in sources:
            # build.sh builds into /src/build (WORKDIR /src, BUILD_DIR=build).
            self.assertTrue(source.startswith("/src/build/bin/"), source)
            self.assertTrue((BIN_DIR / Path(source).name).exists(), f"{source} is not built")
        self.assertEqual(destination, "/usr/local/bin/")
        self.assertEqual(self.docker.of("ENTRYPOINT"), ['["/usr/local/bin/orderbook-gateway"]'])

    @unittest.skipUnless(os.environ.get("OBGW_IMAGE_BUILD_TYPE", "1") == "1",
                         "not a Release build without sanitizers, as the image's")
    def test_runtime_packages_are_those_of_the_binaries_libraries(self):
        installs = [r for r in self.docker.of("RUN", stage=1) if "apt-get install" in r]
        self.assertEqual(len(installs), 1)
        after = installs[0].split("apt-get install", 1)[1].split("&&")[0]
        listed = {w for w in after.split() if not w.startswith("-")}
        self.assertIn("curl", listed, "the HEALTHCHECK runs curl")
        listed.discard("curl")
        needed = shared_library_packages(
            [BIN_DIR / "orderbook-gateway", BIN_DIR / "orderbook-feed", BIN_DIR / "orderbook-probe"]
        )
        missing = {p: sorted(libs) for p, libs in needed.items() if p not in listed}
        self.assertEqual(missing, {}, "runtime stage lacks the packages of these libraries")
        self.assertEqual(listed - set(needed), set(), "packages no binary needs")

    def test_non_root_ports_health_check(self):
        users = self.docker.of("USER", stage=1)
        self.assertEqual(len(users), 1)
        self.assertNotIn(users[0].split(":")[0], ("root", "0"))
        exposed = set(" ".join(self.docker.of("EXPOSE", stage=1)).split())
        self.assertEqual(
            exposed,
            {gateway_flags()["http_port"][0], gateway_flags()["grpc_port"][0]},
            "EXPOSE the gateway's default ports",
        )
        (health,) = self.docker.of("HEALTHCHECK", stage=1)
        self.assertRegex(health, r"CMD curl -fsS .*127\.0\.0\.1:\$\{HTTP_PORT:-8002\}/health")
        self.assertEqual(self.docker.of("STOPSIGNAL"), ["SIGTERM"])


# ------------------------------------------------------------ docker-compose


def compose_config(env_file, *extra):
    result = run(
        ["docker-compose", "-f", DEPLOY / "docker-compose.yml", "--env-file", env_file, *extra, "config"]
    )
    if result.returncode != 0:
        raise AssertionError(f"docker-compose config: {result.stderr}")
    return yaml.safe_load(result.stdout)


class ComposeTest(unittest.TestCase):
    def test_config_is_valid_with_the_example_env(self):
        for extra in ([], ["--profile", "monitoring"]):
            result = run(
                ["docker-compose", "-f", DEPLOY / "docker-compose.yml", "--env-file",
                 DEPLOY / ".env.example", *extra, "config", "-q"]
            )
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr, "", "no warnings")

    def test_the_guides_env_works(self):
        # Step 1.3 of the integration guide, verbatim.
        with tempfile.TemporaryDirectory() as tmp:
            env = Path(tmp) / ".env"
            env.write_text(
                "WEBSOCKET_URL=http://websocket_middleware:8002\nREDIS_URL=redis://redis:6379\n"
            )
            config = compose_config(env, "--profile", "monitoring")
        services = config["services"]
        self.assertEqual(
            set(services), {"redis", "gateway1", "gateway2", "nginx", "feed", "prometheus"}
        )
        flag_variables = {env for _, env in gateway_flags().values()} | secret_file_variables()
        redis_host = urllib.parse.urlparse("redis://redis:6379")
        for name in ("gateway1", "gateway2"):
            gateway = services[name]
            environment = gateway["environment"]
            self.assertEqual(environment["REDIS_URL"], "redis://redis:6379")
            self.assertEqual(environment["NODE_ID"], name)
            unknown = set(environment) - flag_variables
            self.assertEqual(unknown, set(), f"{name}: variables no gateway flag reads")
            self.assertEqual(gateway["depends_on"]["redis"]["condition"], "service_healthy")
            self.assertIn("/health", " ".join(gateway["healthcheck"]["test"]))
            self.assertIn(f"http://127.0.0.1:{environment['HTTP_PORT']}/health",
                          " ".join(gateway["healthcheck"]["test"]))
            self.assertEqual(gateway["build"]["dockerfile"], "deploy/docker/Dockerfile")
            self.assertEqual(Path(gateway["build"]["context"]), ROOT)
            grace_ms = int(environment["SHUTDOWN_GRACE_MS"])
            self.assertGreater(self.seconds(gateway["stop_grace_period"]), 2 * grace_ms / 1000)
            self.assertGreaterEqual(gateway["ulimits"]["nofile"]["soft"],
                                    flag_default_int("max_connections"))
        self.assertEqual(redis_host.hostname, "redis")
        self.assertIn("redis-cli", services["redis"]["healthcheck"]["test"])
        # The guide's WEBSOCKET_URL names nginx inside the network.
        guide = urllib.parse.urlparse("http://websocket_middleware:8002")
        nginx = services["nginx"]
        self.assertIn(guide.hostname, nginx["networks"]["default"]["aliases"])
        self.assertIn(guide.port, [int(p["target"]) for p in nginx["ports"]])
        # ... and the gRPC target the publishers derive from it (host of
        # WEBSOCKET_URL, port 50051: ingest/python) is nginx's gRPC listener,
        # published on a host port of its own (gateway1's direct one differs).
        self.assertIn(50051, [int(p["target"]) for p in nginx["ports"]])
        published = [int(p["published"]) for name in ("nginx", "gateway1")
                     for p in services[name].get("ports", [])]
        self.assertEqual(len(published), len(set(published)), f"host port clash: {published}")
        for name in ("gateway1", "gateway2"):
            self.assertEqual(nginx["depends_on"][name]["condition"], "service_healthy")
        self.assertTrue(nginx["image"].startswith("nginx:1.22"))
        # Every mounted file exists; nginx gets the production site.
        mounts = {}
        for name in ("nginx", "prometheus"):
            for volume in services[name]["volumes"]:
                # docker-compose 1.29 prints "source:target[:mode]", v2 a mapping.
                if isinstance(volume, str):
                    source, target = volume.split(":")[:2]
                    volume = {"type": "bind" if source.startswith("/") else "volume",
                              "source": source, "target": target}
                if volume["type"] == "bind":
                    self.assertTrue(Path(volume["source"]).is_file(), volume["source"])
                    mounts[volume["target"]] = volume["source"]
        self.assertEqual(Path(mounts["/etc/nginx/conf.d/default.conf"]),
                         DEPLOY / "nginx" / "orderbook-gateway.conf")
        # Every snippet the site includes is mounted where it looks for it.
        site = (DEPLOY / "nginx" / "orderbook-gateway.conf").read_text()
        for include in re.findall(r"^\s*include (/etc/nginx/snippets/\S+);", site, re.M):
            self.assertEqual(Path(mounts[include]), DEPLOY / "nginx" / Path(include).name)
        # The feed publishes into gateway1's gRPC port.
        feed = services["feed"]
        self.assertIn(f"--target=gateway1:{services['gateway1']['environment']['GRPC_PORT']}",
                      feed["command"])
        self.assertEqual(services["prometheus"]["profiles"], ["monitoring"])

    def test_env_example_has_the_guides_variables(self):
        values = dict(
            line.split("=", 1)
            for line in (DEPLOY / ".env.example").read_text().splitlines()
            if line and not line.startswith("#")
        )
        self.assertEqual(values["WEBSOCKET_URL"], "http://websocket_middleware:8002")
        self.assertEqual(values["REDIS_URL"], "redis://redis:6379")
        # Host-side names must not be gateway flag variables: compose hands
        # the gateways only what docker-compose.yml names.
        compose = (DEPLOY / "docker-compose.yml").read_text()
        self.assertNotIn("env_file", compose)

    @staticmethod
    def seconds(duration):
        match = re.fullmatch(r"(\d+)(ms|s|m)", str(duration))
        value = int(match.group(1))
        return {"ms": value / 1000, "s": value, "m": value * 60}[match.group(2)]


# --------------------------------------------------------------------- nginx


def openssl_self_signed(directory):
    cert, key = directory / "orderbook-gateway.crt", directory / "orderbook-gateway.key"
    result = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                  "-subj", "/CN=market.example.com", "-keyout", key, "-out", cert])
    if result.returncode != 0:
        raise AssertionError(result.stderr)
    return cert, key


class NginxTest(unittest.TestCase):
    def nginx_t(self, prefix, conf):
        result = run(["/usr/sbin/nginx", "-t", "-p", prefix, "-c", conf, "-e", prefix / "error.log"])
        return result.returncode, result.stderr

    def test_production_site_and_tls_example_pass_nginx_t(self):
        with tempfile.TemporaryDirectory() as tmp:
            prefix = Path(tmp)
            snippets, tls = prefix / "snippets", prefix / "tls"
            snippets.mkdir()
            tls.mkdir()
            openssl_self_signed(tls)
            shutil.copy(DEPLOY / "nginx" / "orderbook-gateway-proxy.conf", snippets)
            shutil.copy(DEPLOY / "nginx" / "orderbook-gateway-grpc.conf", snippets)
            for name in ("orderbook-gateway.conf", "orderbook-gateway-tls.conf"):
                text = (DEPLOY / "nginx" / name).read_text()
                # Installed paths into the temporary prefix; the example
                # nodes' names (resolved by nginx -t) to this host.
                text = text.replace("/etc/nginx/snippets/", f"{snippets}/")
                text = text.replace("/etc/nginx/tls/", f"{tls}/")
                text = re.sub(r"server gateway\d:", "server 127.0.0.1:", text)
                (prefix / name).write_text(text)
            (prefix / "nginx.conf").write_text(
                f"pid {prefix}/nginx.pid;\n"
                f"error_log {prefix}/error.log;\n"
                "events {}\n"
                "http {\n"
                f"  access_log off;\n"
                f"  client_body_temp_path {prefix}/tmp;\n  proxy_temp_path {prefix}/tmp;\n"
                f"  include {prefix}/orderbook-gateway.conf;\n"
                f"  include {prefix}/orderbook-gateway-tls.conf;\n"
                "}\n"
            )
            code, output = self.nginx_t(prefix, prefix / "nginx.conf")
            self.assertEqual(code, 0, output)
            self.assertIn("syntax is ok", output)
            self.assertNotIn("[warn]", output)
            # The check is real: a broken snippet fails it.
            (snippets / "orderbook-gateway-proxy.conf").write_text("proxy_read_timeout;\n")
            code, output = self.nginx_t(prefix, prefix / "nginx.conf")
            self.assertNotEqual(code, 0, output)
            shutil.copy(DEPLOY / "nginx" / "orderbook-gateway-proxy.conf", snippets)
            (snippets / "orderbook-gateway-grpc.conf").write_text("grpc_read_timeout;\n")
            code, output = self.nginx_t(prefix, prefix / "nginx.conf")
            self.assertNotEqual(code, 0, output)

    def test_cluster_template_includes_the_shared_proxy_settings(self):
        with tempfile.TemporaryDirectory() as tmp:
            prefix = Path(tmp)
            result = run(["bash", DEPLOY / "cluster" / "render-nginx-conf.sh", prefix,
                          "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"])
            self.assertEqual(result.returncode, 0, result.stderr)
            conf = (prefix / "nginx.conf").read_text()
            self.assertIn(f"include {prefix}/orderbook-gateway-proxy.conf;", conf)
            self.assertEqual((prefix / "orderbook-gateway-proxy.conf").read_text(),
                             (DEPLOY / "nginx" / "orderbook-gateway-proxy.conf").read_text())
            # Without --grpc-listen: no gRPC block, no placeholder left.
            self.assertNotIn("orderbook_gateway_grpc", conf)
            self.assertNotIn("http2", conf)
            self.assertNotRegex(conf, r"@[A-Z_]+@")
            code, output = self.nginx_t(prefix, prefix / "nginx.conf")
            self.assertEqual(code, 0, output)

    def test_cluster_template_proxies_grpc_when_asked(self):
        with tempfile.TemporaryDirectory() as tmp:
            prefix = Path(tmp)
            result = run(["bash", DEPLOY / "cluster" / "render-nginx-conf.sh",
                          "--grpc-listen=127.0.0.1:4", "--grpc-node=127.0.0.1:5",
                          "--grpc-node=127.0.0.1:6", prefix, "127.0.0.1:1", "127.0.0.1:2"])
            self.assertEqual(result.returncode, 0, result.stderr)
            conf = (prefix / "nginx.conf").read_text()
            self.assertNotRegex(conf, r"@[A-Z_]+@")
            grpc = conf[conf.index("upstream orderbook_gateway_grpc {"):]
            self.assertIn("server 127.0.0.1:5 max_fails=1 fail_timeout=10s;", grpc)
            self.assertIn("server 127.0.0.1:6 max_fails=1 fail_timeout=10s;", grpc)
            self.assertIn("listen 127.0.0.1:4 http2;", grpc)
            self.assertIn(f"include {prefix}/orderbook-gateway-grpc.conf;", grpc)
            self.assertEqual((prefix / "orderbook-gateway-grpc.conf").read_text(),
                             (DEPLOY / "nginx" / "orderbook-gateway-grpc.conf").read_text())
            code, output = self.nginx_t(prefix, prefix / "nginx.conf")
            self.assertEqual(code, 0, output)
            self.assertNotIn("[warn]", output)
            # A listener without nodes (or nodes without one) is a usage error.
            for args in (["--grpc-listen=127.0.0.1:4"], ["--grpc-node=127.0.0.1:5"],
                         ["--grpc-listen=127.0.0.1:4", "--grpc-node=nohost"]):
                result = run(["bash", DEPLOY / "cluster" / "render-nginx-conf.sh", *args,
                              prefix, "127.0.0.1:1"])
                self.assertEqual(result.returncode, 2, (args, result.stderr))

    def test_websocket_timeouts_exceed_the_gateways_heartbeats(self):
        text = (DEPLOY / "nginx" / "orderbook-gateway-proxy.conf").read_text()
        ws = text[text.index("location /ws/ {"):]
        ws = ws[: ws.index("}")]
        self.assertIn("proxy_set_header Upgrade $http_upgrade;", ws)
        self.assertIn("proxy_set_header Connection $connection_upgrade;", ws)
        self.assertIn("proxy_buffering off;", ws)
        for directive in ("proxy_read_timeout", "proxy_send_timeout"):
            seconds = int(re.search(directive + r" (\d+)s;", ws).group(1))
            self.assertGreater(seconds * 1000, flag_default_int("ping_interval_ms"))
            self.assertGreater(seconds * 1000, flag_default_int("idle_timeout_ms"))
        site = (DEPLOY / "nginx" / "orderbook-gateway.conf").read_text()
        self.assertRegex(site, r"server gateway1:8002 max_fails=1 fail_timeout=\d+s;")
        self.assertIn("least_conn;", site)

    def test_site_proxies_grpc_on_the_port_the_publishers_derive(self):
        # ingest/python: the gRPC target is WEBSOCKET_URL's host, port 50051.
        site = (DEPLOY / "nginx" / "orderbook-gateway.conf").read_text()
        grpc_server = re.search(r"server \{[^}]*listen 50051 http2;[^}]*\}", site)
        self.assertIsNotNone(grpc_server, "no `listen 50051 http2` server in the site")
        self.assertIn("include /etc/nginx/snippets/orderbook-gateway-grpc.conf;",
                      grpc_server.group(0))
        upstream = site[site.index("upstream orderbook_gateway_grpc {"):]
        upstream = upstream[: upstream.index("}")]
        self.assertRegex(upstream, r"server gateway1:50051 max_fails=1 fail_timeout=\d+s;")
        self.assertRegex(upstream, r"server gateway2:50051 max_fails=1 fail_timeout=\d+s;")
        # A Publish stream is one request answered at its end: no timeout
        # nor body limit of nginx may end one early (defaults: 60 s, 1 MiB).
        snippet = (DEPLOY / "nginx" / "orderbook-gateway-grpc.conf").read_text()
        self.assertIn("grpc_pass grpc://orderbook_gateway_grpc;", snippet)
        self.assertIn("client_max_body_size 0;", snippet)
        for directive in ("client_body_timeout", "grpc_read_timeout", "grpc_send_timeout",
                          "keepalive_timeout"):
            match = re.search(r"^\s*" + directive + r" (\d+)([smhd]);", snippet, re.M)
            self.assertIsNotNone(match, directive)
            seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
            self.assertGreaterEqual(seconds, 3600, directive)
        # The publish token (authorization metadata) passes untouched.
        self.assertNotRegex(snippet, r"(?im)^\s*grpc_set_header\s+authorization")


# ------------------------------------------------------------------- systemd


class SystemdTest(unittest.TestCase):
    unit = DEPLOY / "systemd" / "orderbook-gateway.service"

    def directives(self):
        values = {}
        for line in self.unit.read_text().splitlines():
            if "=" in line and not line.startswith(("#", "[")):
                key, value = line.split("=", 1)
                values.setdefault(key, []).append(value)
        return values

    def test_systemd_analyze_verify(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            shutil.copy(DEPLOY / "systemd" / "orderbook-gateway.default", tmp / "default")
            text = self.unit.read_text()
            self.assertIn("ExecStart=/usr/local/bin/orderbook-gateway\n", text)
            self.assertIn("EnvironmentFile=-/etc/default/orderbook-gateway\n", text)
            text = text.replace("ExecStart=/usr/local/bin/orderbook-gateway",
                                f"ExecStart={GATEWAY}")
            text = text.replace("EnvironmentFile=-/etc/default/orderbook-gateway",
                                f"EnvironmentFile={tmp}/default")
            rendered = tmp / "orderbook-gateway.service"
            rendered.write_text(text)
            result = run(["systemd-analyze", "verify", rendered])
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            # Unknown keys and bad values are only warnings: none allowed.
            self.assertEqual((result.stdout + result.stderr).strip(), "")
            # The check is real: a unit whose binary is missing fails it.
            rendered.write_text(text.replace(f"ExecStart={GATEWAY}", f"ExecStart={tmp}/missing"))
            self.assertNotEqual(run(["systemd-analyze", "verify", rendered]).returncode, 0)

    def test_hardening_limits_and_stop_timeout(self):
        d = self.directives()
        self.assertEqual(d["DynamicUser"], ["yes"])
        self.assertEqual(d["NoNewPrivileges"], ["yes"])
        self.assertEqual(d["ProtectSystem"], ["strict"])
        self.assertEqual(d["Restart"], ["on-failure"])
        self.assertEqual(d["KillSignal"], ["SIGTERM"])
        self.assertGreaterEqual(int(d["LimitNOFILE"][0]), flag_default_int("max_connections"))
        stop = ComposeTest.seconds(d["TimeoutStopSec"][0])
        # Shutdown takes at most 2 x --shutdown_grace_ms plus the drain.
        self.assertGreater(stop, 2 * flag_default_int("shutdown_grace_ms") / 1000 + 5)

    def test_environment_file_names_only_gateway_variables(self):
        names = re.findall(r"^#?([A-Z][A-Z0-9_]*)=",
                           (DEPLOY / "systemd" / "orderbook-gateway.default").read_text(), re.M)
        self.assertGreater(len(names), 5)
        known = {env for _, env in gateway_flags().values()} | secret_file_variables()
        self.assertEqual(set(names) - known, set())
        unit_vars = re.findall(r"^#?Environment=([A-Z0-9_]+)=", self.unit.read_text(), re.M)
        self.assertEqual(set(unit_vars) - known, set())


# ---------------------------------------------------------------- Prometheus


def alert_metric_names():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    names = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            names |= set(re.findall(r"\b(obgw_[a-z0-9_]+|up)\b", rule["expr"]))
    return names


class PrometheusFilesTest(unittest.TestCase):
    directory = DEPLOY / "prometheus"

    def promtool(self, *args):
        result = run(["promtool", *args], cwd=self.directory)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout

    def test_check_config(self):
        out = self.promtool("check", "config", "prometheus.yml")
        self.assertIn("SUCCESS", out)

    def test_check_rules(self):
        out = self.promtool("check", "rules", "alerts.yml")
        self.assertRegex(out, r"SUCCESS: \d+ rules found")

    def test_rule_unit_tests(self):
        out = self.promtool("test", "rules", "alerts_test.yml")
        self.assertIn("SUCCESS", out)
        tested = set(re.findall(r"alertname: (\w+)",
                                (self.directory / "alerts_test.yml").read_text()))
        self.assertGreaterEqual(len(tested), 2)

    def test_alerts_cover_the_operations_list(self):
        names = alert_metric_names()
        for metric in ("up", "obgw_redis_connections_up", "obgw_hub_queue_depth",
                       "obgw_hub_queue_high_water", "obgw_ws_closed_total",
                       "obgw_ws_messages_dropped_total", "obgw_ws_messages_conflated_total",
                       "obgw_ws_delivery_latency_seconds_bucket",
                       "obgw_ingest_books_rejected_total"):
            self.assertIn(metric, names)
        operations = (ROOT / "docs" / "operations.md").read_text()
        rules = yaml.safe_load((self.directory / "alerts.yml").read_text())
        for group in rules["groups"]:
            for rule in group["rules"]:
                self.assertTrue(f"`{rule['alert']}`" in operations,
                                f"docs/operations.md does not explain {rule['alert']}")


# ---------------------------------------------------------- operations.md


class OperationsDocTest(unittest.TestCase):
    def test_flag_table_lists_every_flag_with_its_variable(self):
        text = (ROOT / "docs" / "operations.md").read_text()
        text = text[text.index("\n## 2. Configuration"):text.index("\n## 3. ")]
        rows = dict(re.findall(r"^\| `--([a-z0-9_]+)` \| `([A-Z0-9_]+)` \|", text, re.M))
        flags = {name: env for name, (_, env) in gateway_flags().items()}
        self.assertEqual(sorted(set(flags) - set(rows)), [], "flags missing from section 2")
        self.assertEqual(sorted(set(rows) - set(flags)), [], "rows for flags that do not exist")
        for name, env in flags.items():
            self.assertEqual(rows[name], env, f"--{name}")


# ------------------------------------------------- cluster with Prometheus


class ClusterMonitoringTest(unittest.TestCase):
    """run-cluster.sh PROMETHEUS=1: the docs' "two monitored nodes behind nginx"."""

    def setUp(self):
        for tool in ("redis-server", "redis-cli", "prometheus", "curl"):
            if shutil.which(tool) is None:
                self.fail(f"{tool} missing: bash deploy/install-deps.sh")
        self.state = tempfile.mkdtemp(prefix="obgw-cluster-")
        self.process = None
        self.output = ""

    def tearDown(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.process is not None:
            self.process.stdout.close()
        shutil.rmtree(self.state, ignore_errors=True)

    @staticmethod
    def port_base(count):
        """A base B with B+1 .. B+count free on 127.0.0.1."""
        for _ in range(50):
            base = free_port()
            if base + count < 65535 and ports_free(range(base + 1, base + count + 1)):
                return base
        raise AssertionError("no free port range")

    def read_until(self, needle, timeout):
        """Reads the script's output until it holds needle (or the script ends).

        Reads the pipe's descriptor directly: a buffered reader would keep
        lines select() no longer sees.
        """
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while needle not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
            if not ready:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self.output += chunk.decode(errors="replace")
        if needle not in self.output:
            self.fail(f"no '{needle}' within {timeout} s:\n{self.output}\n{self.logs()}")
        return self.output

    def logs(self):
        out = []
        for path in sorted(Path(self.state).glob("*.log")):
            out.append(f"--- {path.name}\n{path.read_text()[-3000:]}")
        return "\n".join(out)

    def api(self, port, path, **params):
        url = f"http://127.0.0.1:{port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as reply:
            body = json.load(reply)
        self.assertEqual(body["status"], "success", body)
        return body["data"]

    def wait_for(self, what, probe, timeout):
        """Polls probe() (Prometheus scrapes on its own clock) until it is truthy."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(0.2)
        self.fail(f"{what} not within {timeout} s; last: {last}\n{self.logs()}")

    def test_two_nodes_behind_nginx_monitored_by_prometheus(self):
        http_base, grpc_base = self.port_base(2), self.port_base(2)
        redis_port, nginx_port, prometheus_port = free_port(), free_port(), free_port()
        nginx_grpc_port = free_port()
        env = dict(os.environ)
        env.update({
            "NODES": "2",
            "LISTEN": f"127.0.0.1:{nginx_port}",
            "GRPC_LISTEN": f"127.0.0.1:{nginx_grpc_port}",
            "HTTP_BASE": str(http_base),
            "GRPC_BASE": str(grpc_base),
            "REDIS_PORT": str(redis_port),
            "BUILD_DIR": str(BIN_DIR.parent),
            "STATE_DIR": self.state,
            "FEED": "1",
            "PROMETHEUS": "1",
            "PROMETHEUS_LISTEN": f"127.0.0.1:{prometheus_port}",
            "PROMETHEUS_SCRAPE_INTERVAL": "1s",
        })
        env.pop("REDIS_URL", None)
        self.process = subprocess.Popen(
            ["bash", str(DEPLOY / "cluster" / "run-cluster.sh")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )
        banner = self.read_until("prometheus http://", timeout=60)
        self.assertIn("2 nodes behind nginx", banner)

        nodes = {f"127.0.0.1:{http_base + 1}", f"127.0.0.1:{http_base + 2}"}

        def targets_up():
            active = self.api(prometheus_port, "targets")["activeTargets"]
            up = {t["labels"]["instance"] for t in active if t["health"] == "up"}
            return up if up == nodes else None

        self.wait_for("both targets up", targets_up, timeout=30)

        # up == 1 and the gateway's metrics for each node.
        def query(expr):
            return {r["metric"]["instance"]: float(r["value"][1])
                    for r in self.api(prometheus_port, "query", query=expr)["result"]}

        self.assertEqual(query('up{job="orderbook-gateway"}'), {n: 1.0 for n in nodes})
        self.wait_for("Redis up on both nodes",
                      lambda: query("obgw_redis_connections_up") == {n: 2.0 for n in nodes},
                      timeout=20)
        # The feed publishes into node 1, which orders its books through Redis;
        # node 2 serves the same metric (its clients would get them).
        node1 = f"127.0.0.1:{http_base + 1}"
        self.wait_for("node 1 routing the feed's books through Redis",
                      lambda: (lambda r: set(r) == nodes and r[node1] > 0)(
                          query("obgw_cluster_books_published_total")), timeout=20)
        self.assertEqual(set(query("obgw_hub_updates_routed_total")), nodes)

        # Every metric the alert rules use is one the gateway serves.
        served = set(self.api(prometheus_port, "label/__name__/values"))
        self.assertEqual(alert_metric_names() - served, set(), "alerts on names /metrics lacks")

        # The rules load and evaluate without error.
        def rules_evaluated():
            groups = self.api(prometheus_port, "rules")["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return rules if rules and all(r.get("lastEvaluation", "").startswith("20")
                                          and r["health"] == "ok" for r in rules) else None

        rules = self.wait_for("rules evaluated", rules_evaluated, timeout=20)
        shipped = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
        self.assertEqual(sorted(r["name"] for r in rules),
                         sorted(r["alert"] for g in shipped["groups"] for r in g["rules"]))
        # On this healthy cluster the node, Redis and queue alerts are quiet
        # (the latency and rate ones depend on the machine's load: a busy
        # sanitizer run may make them pending, never firing this soon).
        states = {r["name"]: r["state"] for r in rules}
        for name in ("OrderbookGatewayDown", "OrderbookGatewayRedisDown",
                     "OrderbookGatewayQueueNearHighWater"):
            self.assertEqual(states[name], "inactive", name)
        self.assertNotIn("firing", states.values())

        # nginx balances over the nodes.
        with urllib.request.urlopen(f"http://127.0.0.1:{nginx_port}/health", timeout=5) as reply:
            self.assertEqual(reply.status, 200)
            self.assertIn(json.load(reply)["status"], ("healthy", "degraded"))

        # A book published over gRPC through nginx reaches a WebSocket
        # subscriber through nginx (as the symbol's snapshot: the book is in
        # Redis by the time the subscriber comes).
        probe = BIN_DIR / "orderbook-probe"
        published = run([probe, "publish", "--via=grpc", f"--grpc=127.0.0.1:{nginx_grpc_port}",
                         "--symbols=NGINXGRPC", "--json"])
        self.assertEqual(published.returncode, 0, published.stdout + published.stderr)
        watched = run([probe, "watch", f"--gateway=http://127.0.0.1:{nginx_port}",
                       "--symbols=NGINXGRPC", "--count=1", "--json"])
        self.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr)
        updates = [json.loads(line) for line in watched.stdout.splitlines()
                   if line.startswith("{")]
        self.assertIn("NGINXGRPC", [u.get("symbol") for u in updates], watched.stdout)

        # Ctrl-C stops everything the script started.
        self.process.send_signal(signal.SIGINT)
        self.assertEqual(self.process.wait(timeout=30), 130)
        for port in (nginx_port, nginx_grpc_port, prometheus_port, http_base + 1, http_base + 2,
                     redis_port):
            self.assertTrue(ports_free([port]), f"port {port} still in use after the stop")


if __name__ == "__main__":
    unittest.main()
