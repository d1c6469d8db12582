#!/usr/bin/env bash
# Redocly CLI, pinned by tools/openapi-lint/package-lock.json, for the test that lints the API document
# (tests/Api.Tests/OpenApiDocumentTests.cs).
#
# Sourced by ./mypay: `openapi_lint_install` installs it into tools/openapi-lint/node_modules with
# `npm ci` (again only when the lock file changed) and exports MYPAY_REDOCLY, the command the test
# runs. Run directly: `scripts/openapi-lint.sh install`, or `scripts/openapi-lint.sh lint FILE` to
# lint a document by hand (for instance one saved from a running node's /openapi/v1.json).

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

OPENAPI_LINT_DIR="$MYPAY_ROOT/tools/openapi-lint"
# The Redocly CLI release pinned in package.json runs on Node.js 20.19 or later.
OPENAPI_LINT_NODE_MIN="20.19.0"

openapi_lint_require_node() {
  command -v node >/dev/null && command -v npm >/dev/null ||
    die "Node.js $OPENAPI_LINT_NODE_MIN or later and npm are needed to lint the API document (tools/openapi-lint); install them first"
  local version
  version="$(node --version)"
  version="${version#v}"
  if [[ "$(printf '%s\n%s\n' "$OPENAPI_LINT_NODE_MIN" "$version" | sort -V | head -n 1)" != "$OPENAPI_LINT_NODE_MIN" ]]; then
    die "Node.js $version is older than the $OPENAPI_LINT_NODE_MIN that the API document's lint (tools/openapi-lint) needs"
  fi
}

openapi_lint_install() {
  local modules="$OPENAPI_LINT_DIR/node_modules"
  local installed_lock="$modules/.mypay-package-lock.json"
  openapi_lint_require_node
  # One install at a time: two `./mypay test` in one checkout would otherwise both empty node_modules.
  mkdir -p "$MYPAY_STATE_DIR"
  exec {OPENAPI_LINT_LOCK_FD}>"$MYPAY_STATE_DIR/openapi-lint.lock"
  flock "$OPENAPI_LINT_LOCK_FD"
  if [[ ! -x "$modules/.bin/redocly" ]] || ! cmp -s "$OPENAPI_LINT_DIR/package-lock.json" "$installed_lock"; then
    log "installing the API document's lint (npm ci in tools/openapi-lint)"
    npm ci --prefix "$OPENAPI_LINT_DIR" --no-audit --no-fund --loglevel=error >&2
    cp "$OPENAPI_LINT_DIR/package-lock.json" "$installed_lock"
  fi
  flock --unlock "$OPENAPI_LINT_LOCK_FD"
  exec {OPENAPI_LINT_LOCK_FD}>&-
  export MYPAY_REDOCLY="$modules/.bin/redocly"
}

openapi_lint_main() {
  case "${1:-}" in
    install)
      openapi_lint_install
      log "installed: $MYPAY_REDOCLY ($("$MYPAY_REDOCLY" --version 2>/dev/null | head -n 1))"
      ;;
    lint)
      [[ $# -eq 2 ]] || die "usage: scripts/openapi-lint.sh lint FILE"
      openapi_lint_install
      REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$MYPAY_REDOCLY" lint "$2"
      ;;
    *)
      echo "usage: scripts/openapi-lint.sh install | lint FILE" >&2
      exit 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  openapi_lint_main "$@"
fi
