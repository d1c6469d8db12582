#!/usr/bin/env bash
# A private PostgreSQL for this checkout.
#
# Sourced by ./mypay: `pg_up` exports MYPAY_DATABASE_URL and stops the server when the calling
# script exits. Run directly for the debugging commands at the bottom (`scripts/postgres.sh help`).
#
# When MYPAY_DATABASE_URL is already set, that server is used as is and nothing is started.
# Otherwise the cluster lives in <repo>/.mypay/pg:
#   data/   the cluster (initdb -U postgres --auth=trust: no passwords, reachable on 127.0.0.1 only)
#   run/    the Unix socket, so that we never touch /var/run/postgresql or /tmp
#   log     the server log
#   users/  one file per script using the server, so that one `./mypay test` does not stop the
#           server under a `./mypay run` in another terminal; the last one out stops it
#   lock    serialises start and stop between those scripts
#
# PostgreSQL refuses to run as root. As root we run it as the `postgres` user, which must be able
# to reach the folder; when a parent folder is closed to it (a checkout under /root), the
# cluster lives in /tmp/mypay-pg-<hash of the repo path> instead.

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PG_FIRST_PORT=54330
PG_PORT_ATTEMPTS_MAX=20
PG_START_TIMEOUT_SECONDS=60
PG_STOP_TIMEOUT_SECONDS=60

PG_BIN=""
PG_HOME=""
PG_DATA=""
PG_RUN=""
PG_LOG=""
PG_PORT=""
PG_LOCK_FD=""
PG_USING_LOCAL=0

# --- binaries ------------------------------------------------------------------------------------

# Sets PG_BIN to the folder holding initdb, pg_ctl and postgres; the newest Debian version wins.
pg_find_binaries() {
  local initdb
  # A glob sorts 10 before 9: sort -V puts the newest version last.
  initdb="$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)"
  if [[ ! -x "$initdb" ]]; then
    initdb="$(command -v initdb || true)"
  fi
  if [[ -z "$initdb" ]]; then
    return 1
  fi
  PG_BIN="$(dirname "$(readlink -f "$initdb")")"
}

pg_install_binaries() {
  log "PostgreSQL server binaries not found: installing Debian's postgresql package"
  # Only the binaries are used. The package also creates and starts its own 'main' cluster on
  # port 5432; we neither use nor touch it.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
}

pg_require_binaries() {
  if [[ -n "$PG_BIN" ]]; then
    return 0
  fi
  if ! pg_find_binaries; then
    pg_install_binaries
    pg_find_binaries || die "postgresql is installed but initdb is still not found"
  fi
  local tool
  for tool in initdb pg_ctl postgres psql pg_isready; do
    [[ -x "$PG_BIN/$tool" ]] || die "$PG_BIN/$tool is missing"
  done
}

# pg_as_server_user COMMAND...: run COMMAND as the user that owns the cluster, from / because
# that user may not be allowed into the current folder, and without our open files: a server
# that inherited them would hold the start lock, or the pipe of a CI log, for as long as it runs.
pg_as_server_user() {
  local -a as_user=()
  if ((EUID == 0)); then
    as_user=(runuser -u postgres --)
  fi
  (
    cd /
    local fd_path fd
    for fd_path in "/proc/$BASHPID/fd"/*; do
      fd="${fd_path##*/}"
      if ((fd > 2)); then
        { exec {fd}>&-; } 2>/dev/null || true
      fi
    done
    exec "${as_user[@]}" "$@"
  )
}

# --- folders -------------------------------------------------------------------------------------

pg_choose_home() {
  local home="$MYPAY_STATE_DIR/pg"
  mkdir -p "$home"
  if ((EUID != 0)); then
    PG_HOME="$home"
  else
    if ! id postgres >/dev/null 2>&1; then
      log "creating the system user 'postgres' to run PostgreSQL (it refuses to run as root)"
      useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    chown postgres: "$home"
    if runuser -u postgres -- test -x "$home" -a -w "$home"; then
      PG_HOME="$home"
    else
      rmdir "$home" 2>/dev/null || true
      local hash
      hash="$(printf '%s' "$MYPAY_ROOT" | sha256sum | cut -c 1-12)"
      home="/tmp/mypay-pg-$hash"
      log "the postgres user cannot reach $MYPAY_STATE_DIR (a parent folder is closed to it);" \
        "the cluster lives in $home instead"
      # /tmp is shared: refuse a path someone else prepared for us.
      if [[ -L "$home" ]]; then
        die "$home is a symbolic link; remove it and retry"
      fi
      mkdir -p "$home"
      chown postgres: "$home"
      chmod 700 "$home"
      PG_HOME="$home"
    fi
  fi
  PG_DATA="$PG_HOME/data"
  PG_RUN="$PG_HOME/run"
  PG_LOG="$PG_HOME/log"
}

# --- state of the cluster ------------------------------------------------------------------------

# Prints the postmaster's pid when the cluster in PG_DATA is running.
pg_running_pid() {
  local pid_file="$PG_DATA/postmaster.pid"
  local pid
  [[ -f "$pid_file" ]] || return 1
  read -r pid <"$pid_file" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # After a crash (kill -9, power loss) the pid file stays behind and its pid may since have
  # been given to another process: only a postmaster started on this data folder counts. A
  # zombie (dead, not yet reaped) has an empty command line and does not count either.
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$PG_DATA" || return 1
  printf '%s\n' "$pid"
}

# The port is the 4th line of postmaster.pid.
pg_running_port() {
  sed -n 4p "$PG_DATA/postmaster.pid"
}

pg_is_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -t 1 >/dev/null 2>&1
}

pg_wait_ready() {
  local port=$1
  local waited_seconds=0
  until pg_is_ready "$port"; do
    if ((waited_seconds >= PG_START_TIMEOUT_SECONDS)); then
      return 1
    fi
    sleep 1
    waited_seconds=$((waited_seconds + 1))
  done
}

pg_stop_server() {
  log "stopping PostgreSQL ($PG_DATA)"
  if ! pg_as_server_user "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t "$PG_STOP_TIMEOUT_SECONDS" >/dev/null; then
    log "PostgreSQL did not stop within ${PG_STOP_TIMEOUT_SECONDS}s; stopping it immediately (it will recover on next start)"
    pg_as_server_user "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t "$PG_STOP_TIMEOUT_SECONDS" >/dev/null || true
  fi
}

# --- users of the cluster ------------------------------------------------------------------------

# The start time of a live process (field 22 of /proc/PID/stat), to tell a live user from a dead
# one whose pid was reused. Field 2 is the command name in parentheses and may hold spaces. A
# zombie (state Z, killed but not yet reaped) is dead.
process_start_time() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  local -a fields
  read -r -a fields <<<"$stat"
  [[ "${fields[0]}" != Z ]] || return 1
  printf '%s\n' "${fields[19]}"
}

pg_register_user() {
  mkdir -p "$PG_HOME/users"
  process_start_time "$$" >"$PG_HOME/users/$$"
}

pg_unregister_user() {
  rm -f "$PG_HOME/users/$$"
}

# Removes the files of users that died without cleaning up; prints how many are left.
pg_count_live_users() {
  local file pid live=0
  mkdir -p "$PG_HOME/users"
  for file in "$PG_HOME/users"/*; do
    [[ -e "$file" ]] || continue
    pid="${file##*/}"
    if [[ "$(process_start_time "$pid" 2>/dev/null)" == "$(cat "$file")" ]]; then
      live=$((live + 1))
    else
      rm -f "$file"
    fi
  done
  printf '%s\n' "$live"
}

PG_LOCK_WAIT_SECONDS=180

# Taking the lock twice is harmless (same open file); closing the file releases it.
pg_lock() {
  if [[ -z "$PG_LOCK_FD" ]]; then
    exec {PG_LOCK_FD}>>"$PG_HOME/lock"
  fi
  flock -w "$PG_LOCK_WAIT_SECONDS" "$PG_LOCK_FD" ||
    die "another ./mypay has held $PG_HOME/lock for ${PG_LOCK_WAIT_SECONDS}s"
}

pg_unlock() {
  exec {PG_LOCK_FD}>&-
  PG_LOCK_FD=""
}

# --- start ---------------------------------------------------------------------------------------

pg_init_cluster() {
  if [[ -f "$PG_DATA/PG_VERSION" ]]; then
    local cluster_version server_version
    cluster_version="$(cat "$PG_DATA/PG_VERSION")"
    # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": the major version is 15.
    server_version="$("$PG_BIN/postgres" --version | awk '{ split($3, version, "."); print version[1] }')"
    if [[ "$cluster_version" != "$server_version" ]]; then
      die "$PG_DATA was created by PostgreSQL $cluster_version but the server is $server_version;" \
        "delete $PG_DATA to start over (its data is lost)"
    fi
    return 0
  fi
  # No PG_VERSION: never initialised, or an initdb that was interrupted. Start over.
  rm -rf "$PG_DATA"
  local locale=C
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
    locale=C.UTF-8
  fi
  log "creating a PostgreSQL cluster in $PG_DATA"
  # Text compares bytewise (collation C): MyPay's keys are ids, and PostgreSQL compares C strings with memcmp, where
  # any other collation (C.UTF-8 too) copies both strings and calls the C library for every comparison in an index.
  # For UTF-8, byte order is code point order, the order C.UTF-8 sorts in, so nothing sorts differently; character
  # classes (upper, lower) still follow the UTF-8 locale. Measured in bench/HISTORY.md, 2026-12-03.
  pg_as_server_user "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 \
    --locale="$locale" --lc-collate=C --no-instructions >"$PG_HOME/initdb.log" 2>&1 ||
    die "initdb failed; see $PG_HOME/initdb.log"
  # Our settings live in their own file, rewritten on every start, so that the script stays
  # the single place to change them.
  printf "\ninclude_if_exists = 'mypay.conf'\n" >>"$PG_DATA/postgresql.conf"
}

pg_port_in_use() {
  if command -v ss >/dev/null; then
    [[ -n "$(ss -Hltn "sport = :$1")" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

pg_write_settings() {
  local port=$1
  local preload=""
  local share_dir lib_dir
  share_dir="$("$PG_BIN/pg_config" --sharedir 2>/dev/null || true)"
  lib_dir="$("$PG_BIN/pg_config" --pkglibdir 2>/dev/null || true)"
  if [[ -f "$share_dir/extension/pg_stat_statements.control" && -f "$lib_dir/pg_stat_statements.so" ]]; then
    preload="pg_stat_statements"
  fi
  local settings="$PG_DATA/mypay.conf"
  {
    echo "# Written by scripts/postgres.sh on every start: change the script, not this file."
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '${PG_RUN//\'/\'\'}'"
    # One connection pool per node and per test class adds up quickly.
    echo "max_connections = 300"
    echo "shared_buffers = 256MB"
    # A command is acknowledged only once it is durable: never trade that for speed here.
    echo "fsync = on"
    echo "synchronous_commit = on"
    echo "shared_preload_libraries = '$preload'"
  } >"$settings"
  if ((EUID == 0)); then
    chown postgres: "$settings"
  fi
}

# Starts the cluster on the first free port from PG_FIRST_PORT and sets PG_PORT. Another process
# can take a port between our check and the server's bind, so a failed bind moves on to the next.
pg_start_server() {
  local port=$PG_FIRST_PORT
  local attempt
  for ((attempt = 1; attempt <= PG_PORT_ATTEMPTS_MAX; attempt++)); do
    while pg_port_in_use "$port"; do
      port=$((port + 1))
    done
    pg_write_settings "$port"
    local log_size_before=0
    if [[ -f "$PG_LOG" ]]; then
      log_size_before="$(stat -c %s "$PG_LOG")"
    fi
    log "starting PostgreSQL on 127.0.0.1:$port (log: $PG_LOG)"
    if pg_as_server_user "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w \
      -t "$PG_START_TIMEOUT_SECONDS" >/dev/null 2>&1 && pg_wait_ready "$port"; then
      PG_PORT=$port
      return 0
    fi
    local new_log_lines
    new_log_lines="$(tail -c "+$((log_size_before + 1))" "$PG_LOG" 2>/dev/null || true)"
    if grep -q 'could not bind\|Address already in use' <<<"$new_log_lines"; then
      log "port $port was taken meanwhile; trying the next one"
      port=$((port + 1))
      continue
    fi
    printf '%s\n' "$new_log_lines" | tail -n 20 >&2
    die "PostgreSQL did not start; see $PG_LOG"
  done
  die "no free port found from $PG_FIRST_PORT after $PG_PORT_ATTEMPTS_MAX attempts"
}

pg_psql_admin() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}

pg_create_database() {
  local exists
  exists="$(pg_psql_admin -d postgres -tAc "select 1 from pg_database where datname = 'mypay'")"
  if [[ "$exists" != 1 ]]; then
    pg_psql_admin -d postgres -c 'create database mypay'
  fi
  if [[ "$(pg_psql_admin -d mypay -tAc 'show shared_preload_libraries')" == *pg_stat_statements* ]]; then
    pg_psql_admin -d mypay -c 'create extension if not exists pg_stat_statements' 2>/dev/null
  fi
}

# pg_up: make MYPAY_DATABASE_URL point at a running server, starting our own when it is unset.
pg_up() {
  if [[ -n "${MYPAY_DATABASE_URL:-}" ]]; then
    log "using MYPAY_DATABASE_URL from the environment ($(mask_url "$MYPAY_DATABASE_URL")); starting no PostgreSQL"
    return 0
  fi
  pg_require_binaries
  pg_choose_home
  pg_lock
  PG_USING_LOCAL=1
  # Registered before anything starts, so that a failure or Ctrl-C half way still stops it.
  pg_register_user
  at_exit pg_down
  pg_init_cluster
  mkdir -p "$PG_RUN"
  if ((EUID == 0)); then
    chown postgres: "$PG_RUN"
  fi

  local other_users pid
  other_users="$(($(pg_count_live_users) - 1))"
  if pid="$(pg_running_pid)"; then
    local port
    port="$(pg_running_port)"
    if ((other_users > 0)) && pg_wait_ready "$port"; then
      log "reusing PostgreSQL on 127.0.0.1:$port, shared with another ./mypay still using it"
      PG_PORT=$port
    else
      # Left running by a script that was killed before it could stop it (or hung): its
      # settings and port may be out of date, so restart it rather than adopt it.
      log "found PostgreSQL (pid $pid) left running by an earlier run; restarting it"
      pg_stop_server
    fi
  elif [[ -f "$PG_DATA/postmaster.pid" ]]; then
    local stale_pid
    read -r stale_pid <"$PG_DATA/postmaster.pid" || true
    # A dead pid PostgreSQL handles itself (it also checks that no orphaned backend still holds
    # the old shared memory). A pid that still exists, as a zombie or as some other process, it
    # would take for a live server and refuse to start: remove the file in that case only.
    if [[ -n "$stale_pid" && -e "/proc/$stale_pid" ]]; then
      log "removing a stale postmaster.pid (pid $stale_pid is no longer this cluster's server)"
      rm -f "$PG_DATA/postmaster.pid"
    else
      log "found a postmaster.pid left by a crash; PostgreSQL recovers on start"
    fi
  fi
  if [[ -z "$PG_PORT" ]]; then
    # Socket lock files are private to this cluster and only valid while it runs.
    rm -f "$PG_RUN"/.s.PGSQL.*
    pg_start_server
  fi
  pg_create_database
  pg_unlock
  export MYPAY_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/mypay"
}

# pg_down: stop our server unless another script still uses it. Safe to call more than once.
pg_down() {
  if ((!PG_USING_LOCAL)); then
    return 0
  fi
  PG_USING_LOCAL=0
  pg_lock
  pg_unregister_user
  local others
  others="$(pg_count_live_users)"
  if ((others > 0)); then
    log "leaving PostgreSQL running for $others other ./mypay process(es)"
  elif pg_running_pid >/dev/null; then
    pg_stop_server
  fi
  pg_unlock
}

# database_url NAME: MYPAY_DATABASE_URL (a postgresql:// URL) with another database name, on the same server.
database_url() {
  if [[ ! "$MYPAY_DATABASE_URL" =~ ^(postgres(ql)?://[^/?#]*)(/[^?#]*)?(.*)$ ]]; then
    die "MYPAY_DATABASE_URL is not a postgresql:// URL, so no other database on its server can be named from it (for the bank simulator, set MYPAY_BANK_DATABASE_URL)"
  fi
  echo "${BASH_REMATCH[1]}/$1${BASH_REMATCH[4]}"
}

# Hides the password of a connection URL: errors and logs never show a secret.
mask_url() {
  sed -E 's#^([a-z]+://[^:/@]+):[^@]*@#\1:***@#' <<<"$1"
}

# --- debugging commands, when run directly -------------------------------------------------------

pg_usage() {
  cat <<'EOF'
usage: scripts/postgres.sh COMMAND

  check     start the cluster (or use MYPAY_DATABASE_URL), print the server version, stop it
  psql      start the cluster and open psql on database mypay; stopped when psql exits
  status    say where the cluster lives and whether it runs
  stop      stop the cluster even if a script still uses it (after a kill -9 of ./mypay)
  version   print the server version, installing PostgreSQL first if needed
EOF
}

pg_main() {
  case "${1:-}" in
    check)
      pg_up
      echo "MYPAY_DATABASE_URL=$(mask_url "$MYPAY_DATABASE_URL")"
      "${PG_BIN:+$PG_BIN/}psql" -X "$MYPAY_DATABASE_URL" -tAc 'select version()'
      ;;
    psql)
      pg_up
      "${PG_BIN:+$PG_BIN/}psql" -X "$MYPAY_DATABASE_URL"
      ;;
    status)
      pg_require_binaries
      pg_choose_home
      local pid
      if pid="$(pg_running_pid)"; then
        echo "running: pid $pid, port $(pg_running_port), data $PG_DATA"
      else
        echo "stopped: data $PG_DATA"
      fi
      ;;
    stop)
      pg_require_binaries
      pg_choose_home
      if pg_running_pid >/dev/null; then
        pg_stop_server
      else
        log "not running"
      fi
      ;;
    version)
      pg_require_binaries
      "$PG_BIN/postgres" --version
      ;;
    help | -h | --help)
      pg_usage
      ;;
    *)
      pg_usage >&2
      exit 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  pg_main "$@"
fi
