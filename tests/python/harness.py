"""Test harness: the real orderbook-gateway binary and a tiny WebSocket client.

GatewayProcess starts <OBGW_BIN_DIR>/orderbook-gateway on free ports
(--http_port=0 --grpc_port=0, or given ports for a restart), learns the ports
from its "orderbook-gateway ready http=H:P grpc=H:P" line, and stops it.
WsClient is a blocking RFC 6455 client (stdlib only) for /ws/{client_id}.
Everything waits on events (a line read, a frame received) with deadlines;
nothing sleeps to synchronise.
"""

import base64
import json
import os
import re
import socket
import struct
import subprocess
import threading
import time

BIN_DIR = os.environ.get("OBGW_BIN_DIR", os.path.join(os.getcwd(), "bin"))
_READY = re.compile(r"orderbook-gateway ready http=\S*:(\d+) grpc=\S*:(\d+)")


class GatewayProcess:
    def __init__(self, *args, http_port=0, grpc_port=0, env=None):
        command = [os.path.join(BIN_DIR, "orderbook-gateway"), "--bind=127.0.0.1",
                   "--http_port=%d" % http_port, "--grpc_port=%d" % grpc_port, "--threads=1",
                   *args]
        self.lines = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        line = self.wait_for_line(_READY, 15)
        if line is None:
            self.stop()
            raise RuntimeError("gateway did not become ready:\n" + self.output())
        match = _READY.search(line)
        self.http_port, self.grpc_port = int(match[1]), int(match[2])
        self.grpc_target = "127.0.0.1:%d" % self.grpc_port

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.lines.append(None)  # EOF
            self._cond.notify_all()

    def wait_for_line(self, pattern, timeout):
        """The first output line matching `pattern` (a regex), or None at the deadline/EOF."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    if line is None:
                        return None
                    if regex.search(line):
                        return line
                seen = len(self.lines)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def output(self):
        with self._cond:
            return "\n".join(line for line in self.lines if line is not None)

    def stop(self, sig_kill=False):
        if self.proc.poll() is None:
            (self.proc.kill if sig_kill else self.proc.terminate)()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class WsClient:
    """Blocking WebSocket client: text frames out (masked), text frames in."""

    def __init__(self, port, client_id, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /ws/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (client_id, port, key)).encode())
        self._buf = b""
        while b"\r\n\r\n" not in self._buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self._buf += chunk
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError("handshake refused: %r" % head[:200])

    def _exact(self, n):
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self._buf += chunk
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, message):
        self._send_frame(0x1, json.dumps(message).encode())

    def recv(self, timeout=10):
        """The next text message, parsed; answers pings on the way."""
        self.sock.settimeout(timeout)
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._exact(8))[0]
            payload = self._exact(n)
            opcode = b0 & 0x0F
            if opcode == 0x9:
                self._send_frame(0xA, payload)
            elif opcode == 0x8:
                raise ConnectionError("closed by the gateway: %r" % payload)
            elif opcode == 0x1:
                return json.loads(payload)

    def recv_until(self, predicate, timeout=10):
        """Messages until one satisfies predicate; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching message within %s s" % timeout)
            message = self.recv(remaining)
            if predicate(message):
                return message

    def subscribe(self, *symbols):
        for symbol in symbols:
            self.send({"action": "subscribe", "symbol": symbol})
            self.recv_until(lambda m, s=symbol: m.get("type") == "subscription_confirmed" and
                            m.get("symbol") == s)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
