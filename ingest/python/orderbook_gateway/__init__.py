"""orderbook_gateway: publish order books to an orderbook-gateway over gRPC.

    from orderbook_gateway import Publisher
    with Publisher("gateway:50051", token="...") as p:
        p.publish("AAPL", {"bids": [[189.5, 100, 3]], "asks": [[189.6, 50, 1]]})

Publisher (publisher.py) keeps one Publish/PublishBatch stream open, reconnects
with capped, fully jittered backoff and keeps only the newest book of each
symbol while it cannot send (latest-wins). broadcast_orderbook_to_websocket
(broadcast.py) is the integration guide's backend function on top of a shared
Publisher; from_futu (futu.py) converts a Futu OpenAPI order book. The user
guide is docs/integration.md.
"""

# The package may span two directories: the sources (ingest/python) and the
# build tree's generated stubs (<build>/python/orderbook_gateway/_proto), both
# on PYTHONPATH. An installed package has both in one directory.
import pkgutil as _pkgutil

__path__ = _pkgutil.extend_path(__path__, __name__)

from orderbook_gateway.books import MAX_LEVELS, to_update, validate_update  # noqa: E402
from orderbook_gateway.futu import from_futu  # noqa: E402
from orderbook_gateway.publisher import (  # noqa: E402
    Publisher,
    PublisherClosed,
    Rejection,
    Stats,
    Summary,
    parse_rejection,
)
from orderbook_gateway.broadcast import (  # noqa: E402
    broadcast_orderbook_to_websocket,
    configure,
    shared_publisher,
)

__all__ = [
    "MAX_LEVELS",
    "Publisher",
    "PublisherClosed",
    "Rejection",
    "Stats",
    "Summary",
    "broadcast_orderbook_to_websocket",
    "configure",
    "from_futu",
    "parse_rejection",
    "shared_publisher",
    "to_update",
    "validate_update",
]
__version__ = "0.1.0"
