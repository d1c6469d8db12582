#!/usr/bin/env bash
# nginx in front of several MyPay nodes (./mypay run --nodes N): Debian's nginx package, installed when missing, run
# as a child of ./mypay with a configuration of its own under .mypay/nginx-PORT. Orleans sends every grain call to the one
# activation of its grain wherever it lives, so the balancer needs no affinity: it spreads requests to the node with
# the fewest in flight, and passes a request on to another node only when the first could not be reached
# (connection refused or reset before an answer) — for a POST too, as every money-moving request carries an
# Idempotency-Key and is applied once whichever node answers it.
#
# Sourced by ./mypay (after scripts/common.sh). Run directly: `scripts/nginx.sh install`, or
# `scripts/nginx.sh config LISTEN_PORT NODE_URL...` to print the configuration ./mypay would write.

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

# nginx_config DIR LISTEN_PORT NODE_URL...: prints a configuration listening on 127.0.0.1:LISTEN_PORT, balancing
# over the nodes, keeping its pid, logs and temporary files in DIR.
nginx_config() {
  local dir=$1 listen_port=$2
  shift 2
  local servers="" url
  for url in "$@"; do
    url="${url#*://}"
    servers+="    server ${url%%/*} max_fails=1 fail_timeout=5s;"$'\n'
  done
  cat <<CONF
# Written by ./mypay run --nodes; see scripts/nginx.sh.
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  # Bodies up to the node's own limit (64 KiB) stay in memory.
  client_max_body_size 64k;
  client_body_buffer_size 64k;
  upstream mypay {
    least_conn;
$servers    keepalive 64;
  }
  server {
    listen 127.0.0.1:$listen_port;
    location / {
      proxy_pass http://mypay;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_next_upstream error non_idempotent;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
    }
  }
}
CONF
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    install)
      nginx_install
      log "installed: $NGINX ($("$NGINX" -v 2>&1))"
      ;;
    config)
      [[ $# -ge 3 ]] || die "usage: scripts/nginx.sh config LISTEN_PORT NODE_URL..."
      shift
      nginx_config "$MYPAY_STATE_DIR/nginx-$2" "$@"
      ;;
    *)
      echo "usage: scripts/nginx.sh install | config LISTEN_PORT NODE_URL..." >&2
      exit 2
      ;;
  esac
fi
