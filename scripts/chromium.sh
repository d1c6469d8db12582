#!/usr/bin/env bash
# Debian's chromium, the browser of the operators' browser test (tests/EndToEnd.Tests/OperatorBrowserTests.cs),
# which drives it with Microsoft.Playwright: Playwright's own browser builds are never downloaded.
#
# Sourced by ./mypay: `chromium_install` installs Debian's chromium package when the machine has no chromium, and
# exports MYPAY_CHROMIUM, the browser the test starts. Run directly: `scripts/chromium.sh install`.

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

chromium_install() {
  local browser="${MYPAY_CHROMIUM:-}"
  if [[ -z "$browser" ]]; then
    browser="$(command -v chromium || true)"
  fi
  if [[ -z "$browser" ]]; then
    log "chromium not found: installing Debian's chromium package (for the operators' browser test)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >&2
    browser="$(command -v chromium)" || die "the chromium package is installed but no chromium is on PATH"
  fi
  [[ -x "$browser" ]] || die "MYPAY_CHROMIUM=$browser is not an executable browser"
  export MYPAY_CHROMIUM="$browser"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    install)
      chromium_install
      log "installed: $MYPAY_CHROMIUM ($("$MYPAY_CHROMIUM" --version 2>/dev/null | head -n 1))"
      ;;
    *)
      echo "usage: scripts/chromium.sh install" >&2
      exit 2
      ;;
  esac
fi
