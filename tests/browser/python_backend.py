"""The guide's backend (steps 1.1-1.2), switched to the Python package.

Run by python_publisher_test.mjs: its Futu-style callback calls
broadcast_orderbook_to_websocket(symbol, orderbook_data) from orderbook_gateway,
which publishes over gRPC (ORDERBOOK_GATEWAY_GRPC) instead of POSTing. argv[1]
is a JSON list of [symbol, orderbook_data]. Prints one JSON line with what each
call returned and the stream's PublishSummary, then exits (the shared publisher
is closed explicitly here; at exit it would be closed too).
"""

import asyncio
import json
import logging
import sys

from orderbook_gateway import broadcast_orderbook_to_websocket
from orderbook_gateway.broadcast import close_shared

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
logger = logging.getLogger("stock_monitor")


async def on_orderbook_update(symbol, orderbook_data):
    """The guide's Futu callback (1.2), storing nothing."""
    return await broadcast_orderbook_to_websocket(symbol, orderbook_data)


async def main(books):
    return [await on_orderbook_update(symbol, data) for symbol, data in books]


if __name__ == "__main__":
    results = asyncio.run(main(json.loads(sys.argv[1])))
    summary = close_shared(timeout=10)
    print(json.dumps({"results": results, "accepted": summary.accepted,
                      "rejected": summary.rejected, "errors": list(summary.errors)}), flush=True)
