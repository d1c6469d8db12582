# shellcheck shell=bash
# Starting, watching and stopping MyPay's processes (the bank simulator, nodes): shared by
# ./mypay run and bench/run. Source it after scripts/common.sh and scripts/postgres.sh.

# How long a caller waits for the node and the bank to answer before giving up.
RUN_READY_TIMEOUT_SECONDS=${RUN_READY_TIMEOUT_SECONDS:-60}
# How long a child gets to shut down gracefully after SIGTERM before it is killed.
RUN_STOP_TIMEOUT_SECONDS=${RUN_STOP_TIMEOUT_SECONDS:-20}

# The URL to probe a listening address with: wildcard hosts are reached on loopback.
probe_url() {
  local url="${1%%;*}"
  url="${url%/}"
  sed -E 's#://(\*|\+|0\.0\.0\.0|\[::\])(:|$)#://127.0.0.1\2#' <<<"$url"
}

# Prints the HTTP status of GET URL, or 000 when nothing answers.
http_status() {
  curl --silent --insecure --output /dev/null --max-time 2 --write-out '%{http_code}' "$1" || true
}

port_of_url() {
  local host_and_port="${1#*://}"
  host_and_port="${host_and_port%%/*}"
  if [[ "$host_and_port" =~ :([0-9]+)$ ]]; then
    printf '%s\n' "${BASH_REMATCH[1]}"
  fi
}

require_free_port() {
  local port=$1 what=$2
  if [[ -n "$port" ]] && pg_port_in_use "$port"; then
    die "port $port for the $what is already in use (another ./mypay run?); $3"
  fi
}

# start_child NAME COMMAND...: start COMMAND in the background, its output prefixed by [NAME] (or, when CHILD_LOG
# names a file, appended to it), and stop it when this script ends. Sets CHILD_PID.
start_child() {
  local name=$1
  shift
  if [[ -n "${CHILD_LOG:-}" ]]; then
    "$@" >>"$CHILD_LOG" 2>&1 &
  else
    # The prefixing sed ignores Ctrl-C so that it outlives the child and shows its last words.
    "$@" > >(
      trap '' INT
      exec sed -u "s/^/[$name] /"
    ) 2>&1 &
  fi
  CHILD_PID=$!
  at_exit "stop_child $CHILD_PID $name"
}

stop_child() {
  local pid=$1 name=$2
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    return 0
  fi
  log "stopping the $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local waited_tenths=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited_tenths >= RUN_STOP_TIMEOUT_SECONDS * 10)); then
      log "the $name did not stop within ${RUN_STOP_TIMEOUT_SECONDS}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited_tenths=$((waited_tenths + 1))
  done
  wait "$pid" 2>/dev/null || true
}

# Waits until the bank's /health/live and the node's /health/ready answer 200. A node that has
# no /health/ready yet (404) counts as up once /health/live answers at all.
wait_until_ready() {
  local bank_url=$1 node_url=$2 bank_pid=$3 node_pid=$4
  local waited_seconds=0 bank_up=0 node_up=0 ready_status
  while ((!bank_up || !node_up)); do
    kill -0 "$bank_pid" 2>/dev/null || die "the bank simulator exited during start-up"
    kill -0 "$node_pid" 2>/dev/null || die "the node exited during start-up"
    if ((waited_seconds >= RUN_READY_TIMEOUT_SECONDS)); then
      ((bank_up)) || log "no 200 from $bank_url/health/live"
      ((node_up)) || log "no 200 from $node_url/health/ready"
      die "not ready after ${RUN_READY_TIMEOUT_SECONDS}s"
    fi
    if ((!bank_up)) && [[ "$(http_status "$bank_url/health/live")" == 200 ]]; then
      bank_up=1
    fi
    if ((!node_up)); then
      ready_status="$(http_status "$node_url/health/ready")"
      if [[ "$ready_status" == 200 ]]; then
        node_up=1
      elif [[ "$ready_status" == 404 && "$(http_status "$node_url/health/live")" != 000 ]]; then
        log "the node has no /health/ready yet; it answers on /health/live, so counting it as up"
        node_up=1
      fi
    fi
    if ((!bank_up || !node_up)); then
      sleep 1
      waited_seconds=$((waited_seconds + 1))
    fi
  done
}
