#!/usr/bin/env bash
# Debian's docker-compose, for the test that validates docker-compose.yml (tests/EndToEnd.Tests/DeploymentTests.cs)
# on machines without a Docker engine: `docker-compose config` reads, checks and prints the file without one.
#
# Sourced by ./mypay: `compose_install` installs Debian's docker-compose package when missing and exports
# MYPAY_DOCKER_COMPOSE, the command the test runs. Run directly: `scripts/compose.sh install`.

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

compose_install() {
  if ! command -v docker-compose >/dev/null; then
    log "docker-compose not found: installing Debian's docker-compose package (to validate docker-compose.yml)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >&2
  fi
  MYPAY_DOCKER_COMPOSE="$(command -v docker-compose)" || die "the docker-compose package is installed but docker-compose is not on PATH"
  export MYPAY_DOCKER_COMPOSE
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    install)
      compose_install
      log "installed: $MYPAY_DOCKER_COMPOSE ($("$MYPAY_DOCKER_COMPOSE" version --short 2>/dev/null))"
      ;;
    *)
      echo "usage: scripts/compose.sh install" >&2
      exit 2
      ;;
  esac
fi
