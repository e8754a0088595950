"""setuptools hook: generates the gRPC stubs into the built package.

The stubs are not committed; generate_stubs.py writes them (protoc +
grpc_python_plugin, as CMake's obgw_python_stubs target does) into
<build_lib>/orderbook_gateway/_proto from ../../proto, so this works from the
repository checkout (pip builds a local directory in place). Metadata is in
pyproject.toml.
"""

import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import generate_stubs  # noqa: E402


class BuildWithStubs(build_py):
    def run(self):
        super().run()
        proto_path = os.environ.get("ORDERBOOK_GATEWAY_PROTO_PATH",
                                    os.path.join(HERE, "..", "..", "proto"))
        if not os.path.isfile(os.path.join(proto_path, generate_stubs.PROTO)):
            raise RuntimeError("orderbook.proto not found under %s: build from the repository "
                               "checkout or set ORDERBOOK_GATEWAY_PROTO_PATH" % proto_path)
        generate_stubs.generate(proto_path,
                                os.path.join(self.build_lib, "orderbook_gateway", "_proto"),
                                protoc=os.environ.get("PROTOC", "protoc"))


setup(cmdclass={"build_py": BuildWithStubs})
