# shellcheck shell=bash
# Helpers shared by the scripts that run containers on the local Docker engine
# (scripts/build-base-images, build-image --local, test-image, test-compose,
# rehearse-network). Source it; it only defines functions and does nothing
# by itself.

# The repository root (the parent of scripts/).
engine_repo_root() {
  cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd
}

# die PROGRAM MESSAGE: one clear line on stderr, exit 1.
die() {
  local _who="$1"; shift
  printf '%s: %s\n' "$_who" "$*" >&2
  exit 1
}

# require_command PROGRAM COMMAND [HINT]
require_command() {
  local _who="$1" _command="$2" _hint="${3:-}"
  command -v "$_command" >/dev/null 2>&1 \
    || die "$_who" "'$_command' is not installed${_hint:+ ($_hint)}"
}

# require_engine PROGRAM: the docker client exists and its engine answers.
require_engine() {
  local _who="$1"
  require_command "$_who" docker "install Debian's docker.io"
  docker info >/dev/null 2>&1 \
    || die "$_who" "the Docker engine does not answer ('docker info' failed)"
}

# require_image PROGRAM IMAGE HINT: the image exists locally (nothing can be pulled).
require_image() {
  local _who="$1" _image="$2" _hint="$3"
  docker image inspect "$_image" >/dev/null 2>&1 \
    || die "$_who" "image $_image is missing: $_hint"
}

# compose_command: prints the Compose command this machine has, as words:
# `docker-compose` (the Debian package) or `docker compose` (the plugin).
compose_command() {
  if command -v docker-compose >/dev/null 2>&1; then
    echo docker-compose
  elif docker compose version >/dev/null 2>&1; then
    echo docker compose
  else
    return 1
  fi
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND (every 0.2 s) until
# it succeeds; returns 1 with a message once SECONDS have passed.
wait_until() {
  local _seconds="$1" _description="$2"; shift 2
  local _deadline=$((SECONDS + _seconds))
  until "$@"; do
    if ((SECONDS >= _deadline)); then
      printf 'timed out after %ss waiting for %s\n' "$_seconds" "$_description" >&2
      return 1
    fi
    sleep 0.2
  done
}

# container_health NAME: the health status docker reports (starting, healthy,
# unhealthy), or `none` when the container has no health check.
container_health() {
  docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"
}

container_is_healthy() {
  [[ "$(container_health "$1" 2>/dev/null)" == healthy ]]
}

# The local base images (scripts/build-base-images): stable alias tags, and
# the image scripts/build-image --local builds.
# shellcheck disable=SC2034
LOCAL_RUNTIME_BASE="payments-base/runtime:local"
# shellcheck disable=SC2034
LOCAL_MARIADB_IMAGE="payments-base/mariadb:local"
# shellcheck disable=SC2034
LOCAL_HAPROXY_IMAGE="payments-base/haproxy:local"
# shellcheck disable=SC2034
LOCAL_APP_IMAGE="payments:local"
