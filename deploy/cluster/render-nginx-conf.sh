#!/usr/bin/env bash
# Writes a runnable nginx configuration for N gateway nodes from
# nginx.conf.template (next to this script) into PREFIX/nginx.conf and
# creates PREFIX/temp, with the shared proxy settings
# (../nginx/orderbook-gateway-proxy.conf and orderbook-gateway-grpc.conf)
# copied beside it. Used by run-cluster.sh and by the tests.
#
#   render-nginx-conf.sh [--grpc-listen=ADDR:PORT --grpc-node=HOST:PORT...]
#                        PREFIX LISTEN NODE [NODE...]
#     --grpc-listen  also proxy gRPC ingest: nginx's HTTP/2 listener
#     --grpc-node    host:grpc_port of a gateway node (one per node; at least
#                    one with --grpc-listen)
#     PREFIX  directory for the config, pid, logs and temp files (created)
#     LISTEN  address:port nginx listens on, e.g. 0.0.0.0:8080
#     NODE    host:http_port of a gateway node
#
# Then: nginx -p PREFIX -c PREFIX/nginx.conf -e PREFIX/error.log
set -euo pipefail

usage() {
  echo "usage: $0 [--grpc-listen=ADDR:PORT --grpc-node=HOST:PORT...] PREFIX LISTEN NODE [NODE...]" >&2
  exit 2
}
# host:port, IPv6 in brackets.
host_port='^[A-Za-z0-9._-]+:[0-9]+$|^\[[0-9A-Fa-f:]+\]:[0-9]+$'

grpc_listen=""
grpc_nodes=""
while [ $# -gt 0 ]; do
  case $1 in
    --grpc-listen=*) grpc_listen=${1#*=} ;;
    --grpc-node=*)
      node=${1#*=}
      [[ $node =~ $host_port ]] || { echo "$0: gRPC node '$node' is not host:port" >&2; exit 2; }
      grpc_nodes+="    server $node max_fails=1 fail_timeout=10s;"$'\n'
      ;;
    --*) usage ;;
    *) break ;;
  esac
  shift
done
[ $# -ge 3 ] || usage
if [ -n "$grpc_listen" ] && [ -z "$grpc_nodes" ]; then
  echo "$0: --grpc-listen needs at least one --grpc-node" >&2
  exit 2
fi
if [ -z "$grpc_listen" ] && [ -n "$grpc_nodes" ]; then
  echo "$0: --grpc-node needs --grpc-listen" >&2
  exit 2
fi
grpc_nodes=${grpc_nodes%$'\n'}
prefix=$1
listen=$2
shift 2

mkdir -p "$prefix/temp"
prefix=$(cd "$prefix" && pwd)  # nginx resolves relative paths against -p; be explicit

nodes=""
for node in "$@"; do
  if ! [[ $node =~ $host_port ]]; then
    echo "$0: node '$node' is not host:port" >&2
    exit 2
  fi
  nodes+="    server $node max_fails=1 fail_timeout=10s;"$'\n'
done
nodes=${nodes%$'\n'}

here=$(dirname "$0")
template="$here/nginx.conf.template"
# The gRPC block: its marker lines always go, the lines between them too
# unless gRPC is proxied.
conf=$(awk -v keep="$([ -n "$grpc_listen" ] && echo 1 || echo 0)" '
  /@GRPC_BEGIN@/ { inside = 1; next }
  /@GRPC_END@/ { inside = 0; next }
  !inside || keep == 1 { print }
' "$template")
# Literal replacement (no sed: the values may contain characters sed treats
# specially, and @NODES@ spans several lines).
conf=${conf//@PREFIX@/$prefix}
conf=${conf//@GRPC_LISTEN@/$grpc_listen}
conf=${conf//@GRPC_NODES@/$grpc_nodes}
conf=${conf//@LISTEN@/$listen}
conf=${conf//@NODES@/$nodes}
printf '%s\n' "$conf" >"$prefix/nginx.conf"
# The server blocks include the proxy settings every configuration shares.
cp "$here/../nginx/orderbook-gateway-proxy.conf" "$prefix/"
[ -z "$grpc_listen" ] || cp "$here/../nginx/orderbook-gateway-grpc.conf" "$prefix/"
echo "$prefix/nginx.conf"
