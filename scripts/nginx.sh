#!/usr/bin/env bash
# nginx in front of several MyPay nodes (./mypay run --nodes N): Debian's nginx package, installed when missing, run
# as a child of ./mypay with a configuration of its own under .mypay/nginx-PORT. Orleans sends every grain call to the one
# activation of its grain wherever it lives, so the balancer needs no affinity: it spreads requests to the node with
# the fewest in flight, and passes a request on to another node only when the first could not be reached
# (connection refused or reset before an answer) — for a POST too, as every money-moving request carries an
# Idempotency-Key and is applied once whichever node answers it.
#
# Sourced by ./mypay (after scripts/common.sh). Run directly: `scripts/nginx.sh install`, or
# `scripts/nginx.sh config DIR LISTEN_PORT NODE_URL...` to print the configuration ./mypay would write (DIR: where
# nginx keeps its pid, error log and temporary files).

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

nginx_install() {
  if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    log "nginx not found: installing Debian's nginx package (the balancer of ./mypay run --nodes)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >&2
  fi
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
  [[ -x "$NGINX" ]] || die "nginx is installed but not found"
}

# nginx_config DIR LISTEN_PORT NODE_URL...: prints deploy/nginx.conf (the configuration of docker-compose.yml) made for
# nodes on this machine: listening on 127.0.0.1:LISTEN_PORT, balancing over NODE_URL..., one worker, and its pid, error
# log and temporary files in DIR. One configuration serves both, so they cannot drift apart.
nginx_config() {
  local dir=$1 listen_port=$2
  shift 2
  local servers="" url
  for url in "$@"; do
    url="${url#*://}"
    servers+="    server ${url%%/*} max_fails=1 fail_timeout=5s;"$'\n'
  done
  awk -v dir="$dir" -v listen_port="$listen_port" -v servers="$servers" '
    /^worker_processes / { print "worker_processes 1;"; print "pid " dir "/nginx.pid;"; print "error_log " dir "/error.log warn;"; next }
    /^http \{/ {
      print
      print "  client_body_temp_path " dir "/tmp/body;"
      print "  proxy_temp_path " dir "/tmp/proxy;"
      print "  fastcgi_temp_path " dir "/tmp/fastcgi;"
      print "  uwsgi_temp_path " dir "/tmp/uwsgi;"
      print "  scgi_temp_path " dir "/tmp/scgi;"
      next
    }
    /^ *server node[0-9]+:/ { if (!written) { printf "%s", servers; written = 1 }; next }
    /^ *listen 8080;/ { print "    listen 127.0.0.1:" listen_port ";"; next }
    { print }
  ' "$MYPAY_ROOT/deploy/nginx.conf"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    install)
      nginx_install
      log "installed: $NGINX ($("$NGINX" -v 2>&1))"
      ;;
    config)
      [[ $# -ge 4 ]] || die "usage: scripts/nginx.sh config DIR LISTEN_PORT NODE_URL..."
      shift
      nginx_config "$@"
      ;;
    *)
      echo "usage: scripts/nginx.sh install | config DIR LISTEN_PORT NODE_URL..." >&2
      exit 2
      ;;
  esac
fi
