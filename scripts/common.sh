# shellcheck shell=bash
# Shared helpers for ./mypay and scripts/*.sh. Source it; it does nothing on its own.
#
# Exit handling lives here, in one place, because several helpers need to clean up after
# themselves (PostgreSQL, the processes `./mypay run` starts) and bash has one EXIT trap.
# Each helper registers its clean-up with `at_exit`; hooks run once, newest first, so what
# was started last is stopped first (the node before the database it writes to).

if [[ -n "${MYPAY_COMMON_SOURCED:-}" ]]; then
  return 0
fi
MYPAY_COMMON_SOURCED=1

MYPAY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck disable=SC2034 # used by the scripts that source this file
MYPAY_STATE_DIR="$MYPAY_ROOT/.mypay"

# Messages go to stderr so that stdout stays parseable (the last line of `./mypay test`).
log() { printf '[mypay] %s\n' "$*" >&2; }
die() {
  printf '[mypay] error: %s\n' "$*" >&2
  exit 1
}

MYPAY_EXIT_HOOKS=()
MYPAY_EXIT_HOOKS_RAN=0

# at_exit COMMAND: run COMMAND (a string, evaluated) when the calling script ends, however it ends.
at_exit() {
  MYPAY_EXIT_HOOKS+=("$1")
}

run_exit_hooks() {
  if ((MYPAY_EXIT_HOOKS_RAN)); then
    return 0
  fi
  MYPAY_EXIT_HOOKS_RAN=1
  local index
  for ((index = ${#MYPAY_EXIT_HOOKS[@]} - 1; index >= 0; index--)); do
    # A failing hook must not stop the ones after it: PostgreSQL is stopped even if a child
    # refused to die.
    eval "${MYPAY_EXIT_HOOKS[index]}" || log "clean-up step failed: ${MYPAY_EXIT_HOOKS[index]}"
  done
}

on_exit() {
  local status=$?
  run_exit_hooks
  exit "$status"
}

# A signal ends the script through `exit`, which runs the EXIT trap (and the hooks) exactly once.
# The exit status is 128 + signal number unless the caller decides otherwise: `./mypay run` sets
# MYPAY_EXIT_STATUS_ON_SIGNAL=0 because Ctrl-C is how a developer stops it, not a failure.
on_signal() {
  local default_status=$1
  trap - INT TERM
  exit "${MYPAY_EXIT_STATUS_ON_SIGNAL:-$default_status}"
}

trap on_exit EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# as_root COMMAND...: run COMMAND as root, through sudo when we are not root.
as_root() {
  if ((EUID == 0)); then
    "$@"
  else
    sudo "$@"
  fi
}
