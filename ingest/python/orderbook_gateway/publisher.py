"""Publisher: one long-lived gRPC stream of books to an orderbook-gateway.

    p = Publisher("gateway:50051", token=os.environ.get("PUBLISH_TOKEN"))
    p.publish("AAPL", {"bids": [[189.5, 100, 3]], "asks": [[189.6, 50, 1]]})
    summary = p.close()          # half-closes; the gateway's PublishSummary

What it owns and where it runs:
  * publish() runs on the caller's thread (any thread, asyncio code included:
    it never blocks and never does I/O). It converts and validates the book
    (ValueError before anything is sent) and puts it into a LatestWinsBuffer.
  * One stream thread ("orderbook-publisher") owns the channel and the call:
    it opens PublishBatch (Publish with batch=0), reports each summary,
    and reconnects after a failure with capped exponential backoff and full
    jitter (backoff.py), on a fresh channel.
  * gRPC's request thread pulls books from the buffer. It asks for the next
    book only when the previous one has been written (HTTP/2 flow control),
    so while the gateway pushes back or the stream is down the books wait in
    the buffer, where a newer book of a symbol replaces the older one
    (counted as superseded): memory is bounded by the number of symbols.

What is lost and what is not: after a stream fails, the newest book of each
symbol handed to that stream is put back (unless a newer one is pending) and
sent again on the next stream (resend_on_reconnect=True): the newest book of
every symbol reaches the gateway once it is reachable again (possibly twice;
books are snapshots, so a duplicate is harmless, and a restarted gateway gets
its snapshot cache back). Older books may be superseded. Books still pending
when close() gives up are counted in dropped_on_close.

The gateway reports rejected books only in the summary that ends a stream, so
the stream is half-closed and reopened every summary_interval_s (default 60 s):
each summary's rejections are logged, counted and passed to on_rejection; the
last one is returned by close(). A refused token (UNAUTHENTICATED), a refused
permission or an unknown method stops the publisher (no reconnect loop): the
next publish() raises PublisherClosed with the gateway's message.
"""

import asyncio
import dataclasses
import logging
import re
import threading
import time

import grpc

from orderbook_gateway import books
from orderbook_gateway._stubs import pb, pb_grpc
from orderbook_gateway.backoff import Backoff
from orderbook_gateway.latest import LatestWinsBuffer

_LOG = logging.getLogger("orderbook_gateway")

# Most books per PublishBatch message by default.
DEFAULT_BATCH = 64
# The gateway's message limit (docs/protocol.md 5); a batch stays below it.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
_BATCH_BYTES = MAX_MESSAGE_BYTES - 64 * 1024
# Call outcomes that a retry cannot fix: the publisher stops and says why.
FATAL_CODES = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
                         grpc.StatusCode.UNIMPLEMENTED})
# A stream that lived this long worked: the next failure starts the backoff again.
_BACKOFF_RESET_AFTER_S = 2.0
# Longest wait for one connect attempt (then: backoff, a fresh channel).
_CONNECT_TIMEOUT_S = 10.0

# Rejection.code, derived from the gateway's reason text (docs/protocol.md 4.2).
REJECTION_CODES = (
    ("invalid_symbol", re.compile(r'symbol ".*" is invalid')),
    ("too_many_levels", re.compile(r"(bids|asks) has \d+ levels, limit is \d+")),
    ("invalid_price", re.compile(r"(bids|asks)\[\d+\]\.price ")),
    ("invalid_volume", re.compile(r"(bids|asks)\[\d+\]\.volume ")),
    ("invalid_timestamp", re.compile(r"timestamp ")),
)
_REJECTION = re.compile(r"update (\d+) \((.*?)\): (.*)\Z", re.S)


class PublisherClosed(RuntimeError):
    """publish() after close(), or after the gateway refused the stream for good."""


@dataclasses.dataclass(frozen=True)
class Rejection:
    """One entry of a summary's errors: which update, which symbol, why."""

    update: int  # 1-based position of the update in its stream (0 if unparsable)
    symbol: str
    reason: str  # the gateway's text, e.g. "bids[0].price is not finite"
    code: str  # a REJECTION_CODES name, or "rejected"
    text: str  # the summary entry verbatim


def parse_rejection(text):
    """Rejection for a summary error such as "update 3 (AAPL): bids[0].price must be > 0"."""
    match = _REJECTION.match(text)
    update, symbol, reason = (int(match[1]), match[2], match[3]) if match else (0, "", text)
    for code, pattern in REJECTION_CODES:
        if pattern.match(reason):
            return Rejection(update, symbol, reason, code, text)
    return Rejection(update, symbol, reason, "rejected", text)


@dataclasses.dataclass(frozen=True)
class Summary:
    """The gateway's PublishSummary of one stream."""

    accepted: int
    rejected: int
    errors: tuple  # the gateway's texts (at most 10)
    rejections: tuple  # the same, parsed (Rejection)

    @classmethod
    def from_proto(cls, summary):
        errors = tuple(summary.errors)
        return cls(summary.accepted, summary.rejected, errors,
                   tuple(parse_rejection(e) for e in errors))


@dataclasses.dataclass(frozen=True)
class Stats:
    """Counters since the Publisher was created (Publisher.stats)."""

    published: int = 0  # books taken by publish()
    sent: int = 0  # books handed to a stream (resends included)
    superseded: int = 0  # books replaced by a newer one of their symbol before being sent
    resent: int = 0  # books put back after a failed stream to be sent again
    accepted: int = 0  # from the summaries
    rejected: int = 0  # from the summaries
    streams: int = 0  # streams opened
    reconnects: int = 0  # streams that failed and were retried
    dropped_on_close: int = 0  # books still pending when close() gave up
    pending: int = 0  # books waiting now (one per symbol at most)
    state: str = "connecting"  # connecting, streaming, backoff, closed, failed
    last_error: str = ""  # "<gRPC code>: <details>" of the last failed stream


class _NotConnected(grpc.RpcError):
    """A connect attempt that failed before any stream was opened."""

    def __init__(self, target):
        super().__init__()
        self._target = target

    def code(self):
        return grpc.StatusCode.UNAVAILABLE

    def details(self):
        return "cannot connect to %s" % self._target


def _reported(callback, *args):
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:  # a user's callback must not kill the stream thread
        _LOG.exception("orderbook_gateway: callback %r raised", callback)


class _Feed:
    """The request iterator of one stream. gRPC's request thread calls
    __next__ only after the previous message was written."""

    def __init__(self, publisher, rotate_at):
        self._p = publisher
        self._rotate_at = rotate_at
        self._leftover = []
        self.handed = {}  # symbol → newest update handed to this stream
        self.idle = False  # waiting in __next__: everything handed so far was written
        self.done = False  # the call has finished

    def finish(self):
        """The call has ended: no more takes (under the buffer's lock, so that
        `handed` is complete once this returns)."""
        with self._p._buffer._cond:
            self.done = True
        self._p._buffer.wake()

    def __iter__(self):
        return self

    def _stop_now(self):
        # Under the buffer's lock. Closing stops the stream only once it is drained.
        p = self._p
        return self.done or p._abandoned or (p._closing and not p._buffer._pending)

    def _mark_taken(self, taken):
        # Under the buffer's lock: a failed stream's `handed` is read after
        # finish(), so it has every book this stream took.
        self.idle = False
        for symbol, update in taken:
            self.handed[symbol] = update

    def __next__(self):
        p = self._p
        while True:
            if self.done or p._abandoned:
                raise StopIteration
            taken = self._leftover
            self._leftover = []
            if not taken:
                if self._rotate_at is not None and time.monotonic() >= self._rotate_at:
                    raise StopIteration  # half-close: the summary, then a new stream
                if p._closing and len(p._buffer) == 0:
                    raise StopIteration
                with p._buffer._cond:
                    self.idle = True
                    p._buffer._cond.notify_all()
                timeout = None if self._rotate_at is None else max(
                    0.0, self._rotate_at - time.monotonic())
                taken = p._buffer.take(max(1, p._batch), timeout, self._stop_now,
                                       on_taken=self._mark_taken)
                if not taken:
                    continue
            with p._lock:
                p._sent += len(taken)
            if p._batch <= 1:
                return taken[0][1]
            batch = pb.OrderBookBatch()
            size = 0
            for i, (_, update) in enumerate(taken):
                size += update.ByteSize() + 8
                if i > 0 and size > _BATCH_BYTES:
                    self._leftover = taken[i:]
                    with p._lock:
                        p._sent -= len(self._leftover)
                    break
                batch.updates.append(update)
            return batch


class Publisher:
    """Publishes books over one gRPC stream, reconnecting, latest-wins.

    target: "host:port" of the gateway's gRPC port (--grpc_port, 50051).
    token: publish token (the gateway's --publish_tokens), sent as metadata
        "authorization: Bearer <token>"; None sends none. Never logged.
    tls: True for a TLS channel (the gateway runs with --tls_cert_file);
        root_certificates: PEM bytes or a file path of the CA to trust (None:
        the system's roots); tls_server_name: the name to check in the
        certificate when it differs from the target's host.
    batch: N > 1 uses PublishBatch with whatever is pending, up to N books,
        in one message (one book when one is pending: no waiting to fill a
        batch); 0 or 1 uses Publish, one book per message. Batching costs
        nothing at low rates and amortises the per-message cost (and the GIL
        hand-offs to gRPC's thread) at high ones: docs/integration.md 2.3.
    max_levels: levels per side accepted (the gateway's --max_levels).
    validate: check books against the gateway's rules in publish().
    backoff_initial_s, backoff_max_s: the reconnect delays (full jitter).
    summary_interval_s: reopen the stream this often to get a summary (its
        rejections); 0 or None: only at close().
    resend_on_reconnect: after a failed stream, send the newest book of each
        symbol of that stream again.
    on_summary(Summary), on_rejection(Rejection), on_error(code, details,
        fatal): called on the stream thread; exceptions are logged.
    channel_options: extra grpc channel options.
    """

    def __init__(self, target="127.0.0.1:50051", *, token=None, tls=False,
                 root_certificates=None, tls_server_name=None, batch=DEFAULT_BATCH,
                 max_levels=books.MAX_LEVELS, validate=True, backoff_initial_s=0.1,
                 backoff_max_s=10.0, summary_interval_s=60.0, resend_on_reconnect=True,
                 on_summary=None, on_rejection=None, on_error=None, channel_options=()):
        if not isinstance(target, str) or not target:
            raise ValueError("target must be 'host:port', got %r" % (target,))
        if token is not None and (not isinstance(token, str) or not token or
                                  any(ord(c) < 0x21 or ord(c) > 0x7e for c in token)):
            raise ValueError("token must be a non-empty string of visible ASCII characters")
        if not isinstance(batch, int) or batch < 0:
            raise ValueError("batch must be an integer >= 0, got %r" % (batch,))
        self._target = target
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        self._credentials = None
        if tls or root_certificates is not None:
            roots = root_certificates
            if isinstance(roots, str):
                with open(roots, "rb") as f:
                    roots = f.read()
            self._credentials = grpc.ssl_channel_credentials(root_certificates=roots)
        self._options = [("grpc.primary_user_agent", "orderbook-gateway-python"),
                         ("grpc.initial_reconnect_backoff_ms", int(backoff_initial_s * 1000)),
                         ("grpc.min_reconnect_backoff_ms", int(backoff_initial_s * 1000)),
                         ("grpc.max_reconnect_backoff_ms", int(backoff_max_s * 1000))]
        if tls_server_name:
            self._options.append(("grpc.ssl_target_name_override", tls_server_name))
        self._options.extend(channel_options)
        self._batch = batch
        self._max_levels = max_levels
        self._validate = validate
        self._backoff = Backoff(backoff_initial_s, backoff_max_s)
        self._summary_interval_s = summary_interval_s or None
        self._resend = resend_on_reconnect
        self._on_summary = on_summary
        self._on_rejection = on_rejection
        self._on_error = on_error

        self._buffer = LatestWinsBuffer()
        self._lock = threading.Lock()  # guards the counters and state below
        self._published = self._sent = self._resent = 0
        self._accepted = self._rejected = self._streams = self._reconnects = 0
        self._dropped_on_close = 0
        self._state = "connecting"
        self._last_error = ""
        self._failure = None  # PublisherClosed message after a fatal status
        self._last_summary = None
        self._closing = False
        self._abandoned = False
        self._stopped = False  # the stream thread has ended
        self._feed = None
        self._call = None
        self._thread = threading.Thread(target=self._run, name="orderbook-publisher", daemon=True)
        self._thread.start()

    # ---- caller side -------------------------------------------------------

    def publish(self, symbol, data):
        """Queues the book `data` (a REST-shaped dict, books.py) of `symbol`.

        Never blocks. Raises ValueError for a bad shape or a book the gateway
        would refuse, PublisherClosed after close() or a fatal refusal.
        """
        self._enqueue(books.to_update(symbol, data, self._max_levels, self._validate))

    def publish_update(self, update):
        """Queues an OrderBookUpdate (e.g. from from_futu()); as publish()."""
        if not isinstance(update, pb.OrderBookUpdate):
            raise ValueError("publish_update takes an OrderBookUpdate, got %s"
                             % type(update).__name__)
        if self._validate:
            books.validate_update(update, self._max_levels)
        self._enqueue(update)

    def _enqueue(self, update):
        if update.ByteSize() > _BATCH_BYTES:
            raise ValueError("%s: the book is %d bytes, over the gateway's 4 MiB message limit"
                             % (update.symbol, update.ByteSize()))
        with self._lock:
            if self._failure is not None:
                raise PublisherClosed(self._failure)
            if self._closing:
                raise PublisherClosed("the publisher is closed")
            self._published += 1
        self._buffer.put(update.symbol, update)

    def flush(self, timeout=None):
        """Waits until every book published so far was written to the stream
        (not "delivered": the summary says what was accepted). True if so."""
        def written():
            feed = self._feed
            return (self._failure is not None or self._stopped or
                    (len(self._buffer._pending) == 0 and feed is not None and feed.idle and
                     not feed.done))
        return (self._buffer.wait_until(written, timeout) and self._failure is None and
                len(self._buffer) == 0)

    def close(self, timeout=10.0):
        """Sends what is pending, half-closes and returns the last stream's
        Summary (None when no stream ended cleanly). After `timeout` seconds
        the call is cancelled and the books still pending are counted in
        dropped_on_close. Idempotent."""
        with self._lock:
            self._closing = True
        self._buffer.wake()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abandoned = True
            call = self._call
            if call is not None:
                call.cancel()
            self._buffer.wake()
            self._thread.join(5)
        with self._lock:
            if self._state != "failed":
                self._state = "closed"
            pending = len(self._buffer)
            if pending:
                self._dropped_on_close = pending
                _LOG.warning("orderbook_gateway: closed with %d book(s) not sent (%s)", pending,
                             ", ".join(self._buffer.symbols()[:10]))
            return self._last_summary

    async def aflush(self, timeout=None):
        """flush() for asyncio code (runs in a worker thread)."""
        return await asyncio.to_thread(self.flush, timeout)

    async def aclose(self, timeout=10.0):
        """close() for asyncio code (runs in a worker thread)."""
        return await asyncio.to_thread(self.close, timeout)

    @property
    def stats(self):
        with self._lock:
            return Stats(published=self._published, sent=self._sent,
                         superseded=self._buffer.superseded, resent=self._resent,
                         accepted=self._accepted, rejected=self._rejected,
                         streams=self._streams, reconnects=self._reconnects,
                         dropped_on_close=self._dropped_on_close, pending=len(self._buffer),
                         state=self._state, last_error=self._last_error)

    @property
    def target(self):
        return self._target

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the stream thread -------------------------------------------------

    def _set_state(self, state):
        with self._lock:
            self._state = state

    def _nothing_left_to_do(self):
        """Closing with nothing pending, or abandoned (called under the buffer's lock)."""
        return self._abandoned or (self._closing and not self._buffer._pending)

    def _channel(self):
        if self._credentials is not None:
            return grpc.secure_channel(self._target, self._credentials, self._options)
        return grpc.insecure_channel(self._target, self._options)

    def _run(self):
        channel = self._channel()
        try:
            while not self._abandoned:
                if self._closing and len(self._buffer) == 0:
                    break
                channel = self._one_stream(channel)
                if channel is None:
                    break
        finally:
            if channel is not None:
                channel.close()
            with self._buffer._cond:
                self._feed = None
                self._stopped = True
                self._buffer._cond.notify_all()

    def _wait_ready(self, channel):
        """Waits until `channel` is connected (True) or its connect failed
        (False), so a stream is opened only when the gateway is there: no book
        leaves the buffer for a call that cannot succeed."""
        states = []

        def changed(state):
            with self._buffer._cond:
                states.append(state)
                self._buffer._cond.notify_all()
        channel.subscribe(changed, try_to_connect=True)
        try:
            done = (grpc.ChannelConnectivity.READY, grpc.ChannelConnectivity.TRANSIENT_FAILURE,
                    grpc.ChannelConnectivity.SHUTDOWN)
            self._buffer.wait_until(lambda: self._nothing_left_to_do() or
                                    (states and states[-1] in done), _CONNECT_TIMEOUT_S)
            return bool(states) and states[-1] == grpc.ChannelConnectivity.READY
        finally:
            channel.unsubscribe(changed)

    def _one_stream(self, channel):
        """Runs one stream to its end; returns the channel for the next one,
        or None when the publisher must stop."""
        if not self._wait_ready(channel):
            with self._buffer._cond:
                if self._nothing_left_to_do():
                    return channel if not self._abandoned else None
            return self._after_failure(channel, None, _NotConnected(self._target), 0.0)
        stub = pb_grpc.OrderBookIngestStub(channel)
        rotate_at = (None if self._summary_interval_s is None
                     else time.monotonic() + self._summary_interval_s)
        feed = _Feed(self, rotate_at)
        with self._buffer._cond:
            self._feed = feed
        method = stub.PublishBatch if self._batch > 1 else stub.Publish
        opened = time.monotonic()
        with self._lock:
            self._streams += 1
            self._state = "streaming"
        call = method.future(feed, metadata=self._metadata)
        self._call = call
        call.add_done_callback(lambda _: feed.finish())
        try:
            summary = Summary.from_proto(call.result())
        except (grpc.RpcError, grpc.FutureCancelledError) as e:
            feed.finish()
            return self._after_failure(channel, feed, e, time.monotonic() - opened)
        finally:
            self._call = None
        feed.finish()
        self._report(summary)
        return channel

    def _report(self, summary):
        with self._lock:
            self._accepted += summary.accepted
            self._rejected += summary.rejected
            self._last_summary = summary
        if summary.rejected:
            unreported = summary.rejected - len(summary.rejections)
            _LOG.warning("orderbook_gateway: the gateway rejected %d book(s)%s", summary.rejected,
                         " (%d beyond the summary's first %d reasons)"
                         % (unreported, len(summary.rejections)) if unreported else "")
            for rejection in summary.rejections:
                _LOG.warning("orderbook_gateway: rejected [%s] %s", rejection.code, rejection.text)
                _reported(self._on_rejection, rejection)
        _reported(self._on_summary, summary)

    def _after_failure(self, channel, feed, error, lived_s):
        code = error.code() if isinstance(error, grpc.RpcError) else grpc.StatusCode.CANCELLED
        details = (error.details() if isinstance(error, grpc.RpcError) else "") or ""
        if self._resend and feed is not None:
            with self._buffer._cond:  # after feed.finish(): nothing more is taken
                handed = list(feed.handed.items())
            resent = sum(self._buffer.put_if_absent(symbol, update) for symbol, update in handed)
            with self._lock:
                self._resent += resent
        if self._abandoned:
            return None
        fatal = code in FATAL_CODES
        with self._lock:
            self._last_error = "%s: %s" % (code.name, details)
            if fatal:
                self._failure = "the gateway refused the stream: %s: %s" % (code.name, details)
                self._state = "failed"
            else:
                self._reconnects += 1
                self._state = "backoff"
        _reported(self._on_error, code, details, fatal)
        if fatal:
            _LOG.error("orderbook_gateway: %s; not retrying", self._failure)
            self._buffer.notify()
            return None
        if lived_s >= _BACKOFF_RESET_AFTER_S:
            self._backoff.reset()
        delay = self._backoff.next_delay()
        _LOG.warning("orderbook_gateway: stream to %s failed (%s: %s); reconnecting in %.2f s "
                     "(attempt %d)", self._target, code.name, details, delay,
                     self._backoff.attempt)
        channel.close()
        self._buffer.wait_until(self._nothing_left_to_do, delay)
        self._set_state("connecting")
        return self._channel()
