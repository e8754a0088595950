"""The integration guide's backend function, publishing over gRPC.

    from orderbook_gateway import broadcast_orderbook_to_websocket
    await broadcast_orderbook_to_websocket("AAPL", {"bids": [...], "asks": [...],
                                                    "timestamp": "2024-01-01T12:00:00Z"})

Same signature as the guide's (step 1.1): `symbol`, `orderbook_data` (the dict
the guide POSTed, in either level shape: books.py), and, like it, it never
raises: a failure is logged ("Error broadcasting orderbook for S: ...") and the
function returns False; True means the book was queued for the gateway. The
guide's version returned None, so callers that ignore the result are unchanged;
it logged the subscriber count from the REST reply, which gRPC does not report
per book (GET /stats has it).

All calls share one Publisher (one stream), created on first use from the
environment and closed at interpreter exit (the pending books are sent first,
up to ORDERBOOK_GATEWAY_CLOSE_TIMEOUT_S):

  ORDERBOOK_GATEWAY_GRPC   host:port of the gateway's gRPC port. Default: the
                           host of the guide's WEBSOCKET_URL (default
                           http://websocket_middleware:8002) with port 50051
  ORDERBOOK_GATEWAY_TLS    1 = TLS (default: 1 when WEBSOCKET_URL is https://)
  ORDERBOOK_GATEWAY_TLS_ROOT_CERT  CA file to trust (implies TLS)
  PUBLISH_TOKEN            publish token (as orderbook-feed reads it)
  ORDERBOOK_GATEWAY_BATCH  most books per PublishBatch message (64; 0 = Publish)
  ORDERBOOK_GATEWAY_CLOSE_TIMEOUT_S  at exit, how long pending books may take (5)

configure(...) replaces the shared Publisher with one built from explicit
arguments (Publisher's); shared_publisher() returns it (for stats, flush).
Thread-safe; the coroutine does no I/O itself (the stream thread does).
"""

import atexit
import logging
import os
import threading
import urllib.parse
from typing import Any, Dict

from orderbook_gateway.publisher import DEFAULT_BATCH, Publisher

logger = logging.getLogger("orderbook_gateway.broadcast")

_lock = threading.Lock()
_shared = None
_close_timeout_s = 5.0


def _truthy(value):
    return value is not None and value.strip().lower() in ("1", "true", "yes", "on")


def settings_from_env(environ=None):
    """The Publisher arguments the environment asks for (see the module doc)."""
    env = os.environ if environ is None else environ
    url = urllib.parse.urlsplit(env.get("WEBSOCKET_URL") or "http://websocket_middleware:8002")
    target = env.get("ORDERBOOK_GATEWAY_GRPC")
    if not target:
        host = url.hostname or "websocket_middleware"
        target = "%s:50051" % ("[%s]" % host if ":" in host else host)
    root = env.get("ORDERBOOK_GATEWAY_TLS_ROOT_CERT") or None
    tls_flag = env.get("ORDERBOOK_GATEWAY_TLS")
    tls = _truthy(tls_flag) if tls_flag is not None else url.scheme in ("https", "wss")
    batch_text = env.get("ORDERBOOK_GATEWAY_BATCH") or str(DEFAULT_BATCH)
    try:
        batch = int(batch_text)
    except ValueError:
        raise ValueError("ORDERBOOK_GATEWAY_BATCH must be an integer, got %r"
                         % batch_text) from None
    settings = {"target": target, "tls": tls or root is not None, "root_certificates": root,
                "token": env.get("PUBLISH_TOKEN") or None, "batch": batch}
    return settings


def configure(**publisher_args):
    """Replaces the shared Publisher (the previous one is closed) and returns it."""
    global _shared
    publisher = Publisher(**publisher_args)
    with _lock:
        previous, _shared = _shared, publisher
    if previous is not None:
        previous.close(_close_timeout_s)
    return publisher


def shared_publisher():
    """The Publisher broadcast_orderbook_to_websocket uses (created on first use)."""
    global _shared, _close_timeout_s
    with _lock:
        if _shared is None:
            _close_timeout_s = float(os.environ.get("ORDERBOOK_GATEWAY_CLOSE_TIMEOUT_S") or 5)
            _shared = Publisher(**settings_from_env())
            logger.info("orderbook_gateway: publishing over gRPC to %s", _shared.target)
        return _shared


def close_shared(timeout=None):
    """Closes the shared Publisher (sending what is pending); returns its last Summary."""
    global _shared
    with _lock:
        publisher, _shared = _shared, None
    if publisher is None:
        return None
    return publisher.close(_close_timeout_s if timeout is None else timeout)


atexit.register(close_shared)


async def broadcast_orderbook_to_websocket(symbol: str, orderbook_data: Dict[str, Any]):
    """
    Broadcast order book data to WebSocket clients (over the gateway's gRPC ingest)
    """
    try:
        shared_publisher().publish(symbol, orderbook_data)
        logger.debug("Queued orderbook for %s", symbol)
        return True
    except Exception as e:
        logger.error(f"Error broadcasting orderbook for {symbol}: {e}")
        return False
