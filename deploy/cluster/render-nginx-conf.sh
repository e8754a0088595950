#!/usr/bin/env bash
# Writes a runnable nginx configuration for N gateway nodes from
# nginx.conf.template (next to this script) into PREFIX/nginx.conf and
# creates PREFIX/temp, with the shared proxy settings
# (../nginx/orderbook-gateway-proxy.conf) copied beside it. Used by run-cluster.sh and by the nginx_cluster test.
#
#   render-nginx-conf.sh PREFIX LISTEN NODE [NODE...]
#     PREFIX  directory for the config, pid, logs and temp files (created)
#     LISTEN  address:port nginx listens on, e.g. 0.0.0.0:8080
#     NODE    host:http_port of a gateway node
#
# Then: nginx -p PREFIX -c PREFIX/nginx.conf -e PREFIX/error.log
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 PREFIX LISTEN NODE [NODE...]" >&2
  exit 2
fi
prefix=$1
listen=$2
shift 2

mkdir -p "$prefix/temp"
prefix=$(cd "$prefix" && pwd)  # nginx resolves relative paths against -p; be explicit

nodes=""
for node in "$@"; do
  if ! [[ $node =~ ^[A-Za-z0-9._-]+:[0-9]+$|^\[[0-9A-Fa-f:]+\]:[0-9]+$ ]]; then
    echo "$0: node '$node' is not host:port" >&2
    exit 2
  fi
  nodes+="    server $node max_fails=1 fail_timeout=10s;"$'\n'
done
nodes=${nodes%$'\n'}

template="$(dirname "$0")/nginx.conf.template"
# Literal replacement (no sed: the values may contain characters sed treats
# specially, and @NODES@ spans several lines).
conf=$(<"$template")
conf=${conf//@PREFIX@/$prefix}
conf=${conf//@LISTEN@/$listen}
conf=${conf//@NODES@/$nodes}
printf '%s\n' "$conf" >"$prefix/nginx.conf"
# The server block includes the proxy settings every configuration shares.
cp "$(dirname "$0")/../nginx/orderbook-gateway-proxy.conf" "$prefix/"
echo "$prefix/nginx.conf"
