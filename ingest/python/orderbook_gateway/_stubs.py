"""The generated gRPC modules, imported from orderbook_gateway._proto.

The stubs are generated at build time (ingest/python/generate_stubs.py, run by
CMake into <build>/python/orderbook_gateway/_proto, or by setup.py into the
installed package) and never committed. This module is the one place that
imports them, so a missing build step gives one clear error.
"""

try:
    from orderbook_gateway._proto.orderbook.v1 import orderbook_pb2 as pb
    from orderbook_gateway._proto.orderbook.v1 import orderbook_pb2_grpc as pb_grpc
except ImportError as e:  # pragma: no cover - depends on the build tree
    raise ImportError(
        "orderbook_gateway: the generated gRPC stubs (orderbook_gateway._proto) are missing: "
        "build the target obgw_python_stubs and put <build>/python on PYTHONPATH before "
        "ingest/python, or install the package with pip (which generates them); cause: %s" % e
    ) from e

__all__ = ["pb", "pb_grpc"]
