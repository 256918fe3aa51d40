#!/usr/bin/env bash
# payments-swap: replace the payments container on this host with IMAGE without
# dropping a request. The instance user data installs this file as
# /usr/local/bin/payments-swap (and runs it once with the first image); the
# pipeline runs it on one host at a time through SSM Run Command
# (scripts/deploy-ec2).
#
# Usage: payments-swap <image-uri>
#
# What it does, in order:
#   1. docker pull IMAGE
#   2. if the container `payments` already runs that image id and is ready,
#      stop here (exit 0): running it twice with the same image is harmless
#   3. start a new container `payments-<time>` with --network host and
#      PAYMENTS_REUSE_PORT=true: it binds port 8080 (SO_REUSEPORT) while the
#      old container still serves, so the port never closes
#   4. wait, at most READY_TIMEOUT_SECONDS, until `docker exec <new> payments
#      healthcheck` (its /readyz) passes READY_PASSES times in a row
#   5. stop every older payments container with SIGTERM and
#      `docker stop --time DRAIN + GRACE + MARGIN`: it turns /readyz 503, keeps
#      serving for the drain delay, closes its listener, finishes in-flight
#      requests; then remove it and rename the new container to `payments`
#   If the new container never becomes ready, it is stopped and removed and the
#   old one keeps serving, untouched.
#
# Exit codes:
#   0  swapped, or IMAGE was already running and ready (nothing changed)
#   2  bad usage or host configuration (nothing changed)
#   3  the image could not be pulled (nothing changed)
#   4  the new container could not be started (it was removed; old one serving)
#   5  the new container never became ready (it was removed; old one serving)
#   6  the new container serves, but an old container could not be stopped or
#      removed, or the new one could not be renamed: look at `docker ps -a`
#   7  another swap is running on this host (nothing changed)
#
# Host contract (written by the instance user data):
#   PAYMENTS_ENV_FILE     (default /etc/payments/payments.env) docker --env-file
#                         with the non-secret settings; must exist. Do not set
#                         the variables this script sets below in it.
#   PAYMENTS_SECRETS_DIR  (default /etc/payments/secrets) mounted read-only at
#                         /run/secrets/payments when it exists; its files
#                         `database-url` and `session-key` (owner uid 10001,
#                         mode 0400) become PAYMENTS_DATABASE_URL_FILE and
#                         PAYMENTS_SESSION_KEY_FILE
#   docker can pull from ECR (amazon-ecr-credential-helper for root)
#   recommended: sysctl net.ipv4.tcp_migrate_req=1, so connections still queued
#   on the old listener move to the new one when the old listener closes
#
# Tunables (environment): PAYMENTS_CONTAINER (payments), PAYMENTS_PORT (8080),
# DRAIN_DELAY_SECONDS (10), SHUTDOWN_GRACE_SECONDS (30), STOP_MARGIN_SECONDS
# (10), READY_TIMEOUT_SECONDS (120), READY_PASSES (3), POLL_INTERVAL_SECONDS
# (2), PROBE_TIMEOUT_SECONDS (10, one healthcheck), PAYMENTS_SWAP_LOCK
# (/run/lock/payments-swap.lock).
#
# Why READY_PASSES: with SO_REUSEPORT the kernel spreads connections to
# 127.0.0.1:8080 over the old and the new process, so one probe may be answered
# by the old one. The new container must also stay running throughout, and a
# single failed probe restarts the count.
set -euo pipefail

# SSM Run Command starts this without HOME; docker reads the ECR credential
# helper's configuration from $HOME/.docker.
export HOME="${HOME:-/root}"

readonly EXIT_USAGE=2 EXIT_PULL=3 EXIT_START=4 EXIT_NOT_READY=5 EXIT_OLD_CLEANUP=6 EXIT_LOCKED=7
readonly service_label="org.themarkup.service=payments"

container_name="${PAYMENTS_CONTAINER:-payments}"
port="${PAYMENTS_PORT:-8080}"
env_file="${PAYMENTS_ENV_FILE:-/etc/payments/payments.env}"
secrets_dir="${PAYMENTS_SECRETS_DIR:-/etc/payments/secrets}"
drain_delay="${DRAIN_DELAY_SECONDS:-10}"
shutdown_grace="${SHUTDOWN_GRACE_SECONDS:-30}"
stop_margin="${STOP_MARGIN_SECONDS:-10}"
ready_timeout="${READY_TIMEOUT_SECONDS:-120}"
ready_passes="${READY_PASSES:-3}"
poll_interval="${POLL_INTERVAL_SECONDS:-2}"
probe_timeout="${PROBE_TIMEOUT_SECONDS:-10}"
lock_file="${PAYMENTS_SWAP_LOCK:-/run/lock/payments-swap.lock}"

log() {
  printf '%s payments-swap: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

fail() {
  local code="$1"; shift
  log "$*"
  exit "$code"
}

check_arguments() {
  if (($# != 1)) || [[ -z "$1" || "$1" == -* ]]; then
    echo "usage: payments-swap <image-uri>" >&2
    exit "$EXIT_USAGE"
  fi
  local value
  for value in "$port" "$drain_delay" "$shutdown_grace" "$stop_margin" "$ready_timeout" "$ready_passes" "$probe_timeout"; do
    [[ "$value" =~ ^[0-9]+$ ]] || fail "$EXIT_USAGE" "'$value' is not a whole number (check the tunables)"
  done
  [[ -f "$env_file" ]] || fail "$EXIT_USAGE" "env file $env_file is missing"
}

hold_host_lock() {
  mkdir -p "$(dirname "$lock_file")"
  exec 9>"$lock_file"
  flock --nonblock 9 || fail "$EXIT_LOCKED" "another swap holds $lock_file"
}

pull_image() {
  local image="$1"
  log "pulling $image"
  docker pull --quiet "$image" >/dev/null \
    || fail "$EXIT_PULL" "could not pull $image (registry credentials? network?); nothing changed"
}

image_id() {
  docker image inspect --format '{{.Id}}' "$1"
}

container_exists() {
  docker container inspect "$1" >/dev/null 2>&1
}

container_is_running() {
  [[ "$(docker container inspect --format '{{.State.Running}}' "$1" 2>/dev/null)" == "true" ]]
}

container_image_id() {
  docker container inspect --format '{{.Image}}' "$1"
}

container_is_ready() {
  timeout "$probe_timeout" docker exec "$1" payments healthcheck >/dev/null 2>&1
}

already_running() {
  local wanted_id="$1"
  container_exists "$container_name" \
    && container_is_running "$container_name" \
    && [[ "$(container_image_id "$container_name")" == "$wanted_id" ]] \
    && container_is_ready "$container_name"
}

stop_timeout() {
  echo $((drain_delay + shutdown_grace + stop_margin))
}

start_new_container() {
  local name="$1" image="$2"
  local args=(
    --detach
    --name "$name"
    --label "$service_label"
    --network host
    --restart unless-stopped
    --stop-timeout "$(stop_timeout)"
    --user 10001:10001
    --read-only
    --tmpfs "/tmp:rw,noexec,nosuid,size=64m"
    --cap-drop ALL
    --security-opt no-new-privileges
    --env-file "$env_file"
    --env "PAYMENTS_BIND=0.0.0.0:$port"
    --env PAYMENTS_REUSE_PORT=true
    --env PAYMENTS_LOG_FORMAT=json
    --env PAYMENTS_TRUST_PROXY=true
    --env "PAYMENTS_DRAIN_DELAY=${drain_delay}s"
    --env "PAYMENTS_SHUTDOWN_GRACE=${shutdown_grace}s"
  )
  if [[ -d "$secrets_dir" ]]; then
    args+=(--volume "$secrets_dir:/run/secrets/payments:ro")
    if [[ -f "$secrets_dir/database-url" ]]; then
      args+=(--env PAYMENTS_DATABASE_URL_FILE=/run/secrets/payments/database-url)
    fi
    if [[ -f "$secrets_dir/session-key" ]]; then
      args+=(--env PAYMENTS_SESSION_KEY_FILE=/run/secrets/payments/session-key)
    fi
  fi
  log "starting $name from $image"
  docker run "${args[@]}" "$image" serve >/dev/null
}

wait_until_ready() {
  local name="$1" passes=0 deadline=$((SECONDS + ready_timeout))
  while ((SECONDS <= deadline)); do
    if ! container_is_running "$name"; then
      log "$name stopped before it became ready"
      return 1
    fi
    if container_is_ready "$name"; then
      passes=$((passes + 1))
      if ((passes >= ready_passes)); then
        log "$name is ready"
        return 0
      fi
    else
      passes=0
    fi
    sleep "$poll_interval"
  done
  log "$name was not ready within ${ready_timeout}s"
  return 1
}

show_recent_logs() {
  docker logs --tail 50 "$1" 1>&2 || true
}

# The new container takes no more traffic than its share of the port; it gets
# the same graceful stop as any other before it is removed.
remove_failed_container() {
  local name="$1"
  show_recent_logs "$name"
  docker stop --time "$(stop_timeout)" "$name" >/dev/null 2>&1 || true
  docker rm --force "$name" >/dev/null 2>&1 || true
}

other_service_containers() {
  local keep="$1" name
  while IFS= read -r name; do
    [[ -n "$name" && "$name" != "$keep" ]] && echo "$name"
  done < <(docker ps --all --filter "label=$service_label" --format '{{.Names}}')
  return 0
}

retire_container() {
  local name="$1"
  log "stopping $name (SIGTERM, up to $(stop_timeout)s to drain and finish)"
  docker stop --time "$(stop_timeout)" "$name" >/dev/null || return 1
  docker rm "$name" >/dev/null
}

retire_old_containers() {
  local new_name="$1" name failed=0
  local old_names=()
  mapfile -t old_names < <(other_service_containers "$new_name")
  for name in "${old_names[@]}"; do
    retire_container "$name" || { log "could not stop or remove $name"; failed=1; }
  done
  return "$failed"
}

main() {
  check_arguments "$@"
  local image="$1"
  hold_host_lock
  pull_image "$image"

  local wanted_id
  wanted_id="$(image_id "$image")" || fail "$EXIT_PULL" "pulled $image but cannot inspect it"
  if already_running "$wanted_id"; then
    log "$container_name already runs $image ($wanted_id) and is ready; nothing to do"
    exit 0
  fi

  local new_name
  new_name="$container_name-$(date -u +%Y%m%d%H%M%S)-$$"
  if ! start_new_container "$new_name" "$image"; then
    docker rm --force "$new_name" >/dev/null 2>&1 || true
    fail "$EXIT_START" "could not start $new_name; the old container keeps serving"
  fi
  if ! wait_until_ready "$new_name"; then
    remove_failed_container "$new_name"
    fail "$EXIT_NOT_READY" "$new_name never became ready and was removed; the old container keeps serving"
  fi

  if ! retire_old_containers "$new_name"; then
    fail "$EXIT_OLD_CLEANUP" "$new_name serves, but old containers remain (docker ps -a)"
  fi
  docker rename "$new_name" "$container_name" \
    || fail "$EXIT_OLD_CLEANUP" "$new_name serves but could not be renamed to $container_name"
  log "$container_name now runs $image"
}

main "$@"
