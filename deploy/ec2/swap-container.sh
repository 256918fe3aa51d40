#!/usr/bin/env bash
# payments-swap: replace the payments container on this host with IMAGE without
# dropping a request. It is the only way the app container is started on an
# EC2 host: the instance user data (infrastructure/modules/web) installs this
# file as /usr/local/bin/payments-swap and runs it at first boot with the image
# named by the SSM parameter /payments/<environment>/image-tag; the pipeline
# runs it on one host at a time through SSM Run Command (scripts/deploy-ec2).
#
# Usage: payments-swap <image-uri>
#        payments-swap --rollback
#
# What it does, in order:
#   1. docker pull IMAGE (with PULL_POLICY=missing only when the host does not
#      have it yet; see below)
#   2. if the container `payments` already runs that image id and is ready,
#      stop here (exit 0): running it twice with the same image is harmless
#   3. run the migrations once with IMAGE (`docker run --rm IMAGE migrate`, the
#      same env file and secrets as the app); they are idempotent and safe
#      while the old version serves, because migrations stay backward
#      compatible (deploy/README.md)
#   4. start a new container `payments-<time>-<pid>` with --network host,
#      PAYMENTS_REUSE_PORT=true and PAYMENTS_INSTANCE_ID=<its name>: it binds
#      the app port (SO_REUSEPORT) while the old container still serves, so
#      the port never closes
#   5. wait, at most READY_TIMEOUT_SECONDS, until `docker exec <new> payments
#      healthcheck` (its /readyz) passes READY_PASSES times in a row. The
#      healthcheck passes only when the answer carries the header
#      `x-payments-instance: <new>`, so it is the new process that answered:
#      with SO_REUSEPORT the kernel may hand the probe's connection to the old
#      process, whose 200 must not count (it used to: a new container that
#      never became ready could be declared ready on the old one's answers).
#      An answer from another process counts neither way and is asked again
#      (0.2 s later).
#   6. hand the port over: send every older payments container SIGUSR2
#      (`docker kill --signal USR2`), on which the app closes its listener at
#      once, without a drain delay, and finishes its in-flight requests within
#      the shutdown grace; wait for it to exit (GRACE + MARGIN), then
#      `docker stop --time GRACE + MARGIN` as the fallback (SIGTERM, then
#      SIGKILL) should it still run. Its restart policy is turned off first,
#      so Docker does not start it again when it exits on its own.
#      Why not SIGTERM: on SIGTERM the app reports /readyz 503 for the drain
#      delay while it keeps listening, and with SO_REUSEPORT the load
#      balancer's health checks on the port reach the old and the new process
#      alike, so a host that stays in service would flap out of its target
#      group. SIGTERM (drain) stays right where the whole host leaves the load
#      balancer, and it is what `docker stop` sends.
#      An old container whose main process does not catch SIGUSR2 (an image
#      from before the handover: the signal would kill it on the spot, with
#      its in-flight requests) is stopped the old way instead: SIGTERM and
#      `docker stop --time DRAIN + GRACE + MARGIN`. The swap reads SigCgt in
#      /proc/<pid>/status of the container's main process to know.
#   7. keep the stopped `payments` container as `payments-previous` (replacing
#      the one kept before), so its image stays on the host and
#      `payments-swap --rollback` needs no pull; remove the other old ones
#      (left by an interrupted swap) and rename the new container `payments`.
#   If the new container never becomes ready, it is stopped and removed and the
#   old one keeps serving, untouched.
#
# --rollback: the same swap (steps 2 and 4 to 7) to the image of
# `payments-previous`, without a pull and without migrations (they stay
# backward compatible, and a rollback never runs them down). The version it
# replaces becomes `payments-previous` in turn. It takes as long as the new
# container needs to become ready and the old one to finish its requests:
# seconds. The pipeline rolls hosts back by image instead (scripts/deploy-ec2),
# which gives the same result when the image is the previous one.
#
# Interrupted at any point (killed, host rebooted), it converges when run
# again: containers left by the interrupted run are retired like any old one.
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
#   8  the migrations failed (no container started; old one serving)
#   9  --rollback, but there is no `payments-previous` container (nothing changed)
#
# Host contract (written by the instance user data, infrastructure/modules/web):
#   PAYMENTS_ENV_FILE     (default /etc/payments/app.env) docker --env-file with
#                         the app's non-secret settings (PAYMENTS_PUBLIC_URL
#                         among them); must exist. The swap
#                         reads three of them itself: the port of PAYMENTS_BIND
#                         (default 8080) for the readiness probe, and
#                         PAYMENTS_DRAIN_DELAY (default 0s) and
#                         PAYMENTS_SHUTDOWN_GRACE (default 30s), written as
#                         <N>s, <N>m or <N>ms, for the stop timeout. So the app
#                         and `docker stop` always agree. It sets
#                         PAYMENTS_REUSE_PORT, PAYMENTS_HEALTHCHECK_URL,
#                         PAYMENTS_INSTANCE_ID and the *_FILE variables below
#                         itself, over the env file.
#   PAYMENTS_SECRETS_DIR  (default /run/payments/secrets, on tmpfs: secrets are
#                         never written to disk) mounted read-only at
#                         /run/secrets/payments when it exists; its files
#                         (owner uid 10001, the image's user, mode 0400)
#                         `database-url`, `session-key`, `stripe-secret-key`
#                         and `stripe-webhook-secret` become
#                         PAYMENTS_DATABASE_URL_FILE, PAYMENTS_SESSION_KEY_FILE,
#                         PAYMENTS_STRIPE_SECRET_KEY_FILE and
#                         PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE, each when the
#                         file is there (the hosts' helper fails without
#                         them, so an EC2 host always has all four)
#   docker can pull from ECR (amazon-ecr-credential-helper for root); where the
#   containers' logs go is the Docker daemon's default log driver (awslogs on
#   the EC2 hosts)
#   sysctl net.ipv4.tcp_migrate_req=1, so connections still queued on the old
#   listener move to the new one when the old listener closes (a warning is
#   logged when it is not set)
#
# Tunables (environment): PAYMENTS_CONTAINER (payments: the container's name;
# the swap touches only containers named <it>, <it>-<time>-<pid> and
# <it>-previous), STOP_MARGIN_SECONDS (10), READY_TIMEOUT_SECONDS (120),
# READY_PASSES (3), POLL_INTERVAL_SECONDS (2), PROBE_TIMEOUT_SECONDS (10, one
# healthcheck), RUN_MIGRATIONS (true), MIGRATE_TIMEOUT_SECONDS (600),
# PAYMENTS_SWAP_LOCK (/run/lock/payments-swap.lock), HANDOVER (true; false
# stops old containers with SIGTERM and the drain delay), PROC_DIR (/proc,
# where SigCgt is read), PULL_POLICY (always | missing). `always` is right for
# the EC2 hosts: the image comes from ECR. `missing` pulls only when `docker
# image inspect IMAGE` fails, for an engine without a registry where the
# images are built locally (scripts/rehearse-deploy); since ECR tags are
# immutable it is also safe there, but it would trust a local image of the
# same name.
#
# Why READY_PASSES: the new container must also stay running throughout, and
# a single failed probe of its own process restarts the count.
set -euo pipefail

# SSM Run Command starts this without HOME; docker reads the ECR credential
# helper's configuration from $HOME/.docker.
export HOME="${HOME:-/root}"

readonly EXIT_USAGE=2 EXIT_PULL=3 EXIT_START=4 EXIT_NOT_READY=5 EXIT_OLD_CLEANUP=6 EXIT_LOCKED=7 EXIT_MIGRATE=8
readonly EXIT_NO_PREVIOUS=9
readonly service_label="org.themarkup.service=payments"
# Where the secrets directory appears inside the containers.
readonly secrets_mount=/run/secrets/payments
# The image's user (app/web/Dockerfile); the secret files belong to it.
readonly app_user=10001:10001

container_name="${PAYMENTS_CONTAINER:-payments}"
previous_name="$container_name-previous"
env_file="${PAYMENTS_ENV_FILE:-/etc/payments/app.env}"
secrets_dir="${PAYMENTS_SECRETS_DIR:-/run/payments/secrets}"
stop_margin="${STOP_MARGIN_SECONDS:-10}"
ready_timeout="${READY_TIMEOUT_SECONDS:-120}"
ready_passes="${READY_PASSES:-3}"
poll_interval="${POLL_INTERVAL_SECONDS:-2}"
probe_timeout="${PROBE_TIMEOUT_SECONDS:-10}"
run_migrations="${RUN_MIGRATIONS:-true}"
migrate_timeout="${MIGRATE_TIMEOUT_SECONDS:-600}"
lock_file="${PAYMENTS_SWAP_LOCK:-/run/lock/payments-swap.lock}"
handover="${HANDOVER:-true}"
proc_dir="${PROC_DIR:-/proc}"
pull_policy="${PULL_POLICY:-always}"

# Read from the env file by read_host_settings.
port=""
probe_host=""
drain_delay=""
shutdown_grace=""

log() {
  printf '%s payments-swap: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

fail() {
  local code="$1"; shift
  log "$*"
  exit "$code"
}

# The value of KEY in the env file (the last assignment wins, as in docker),
# or nothing.
env_file_value() {
  local key="$1"
  sed -n "s/^$key=//p" "$env_file" | tail -n 1 | tr -d '\r'
}

# Whole seconds of a duration the app accepts, in the forms <N>s, <N>m or
# <N>ms (rounded up); anything else is a host configuration error.
duration_seconds() {
  local name="$1" value="$2"
  if [[ "$value" =~ ^([0-9]+)s$ ]]; then
    echo "$((10#${BASH_REMATCH[1]}))"
  elif [[ "$value" =~ ^([0-9]+)m$ ]]; then
    echo "$((10#${BASH_REMATCH[1]} * 60))"
  elif [[ "$value" =~ ^([0-9]+)ms$ ]]; then
    echo "$(((10#${BASH_REMATCH[1]} + 999) / 1000))"
  else
    fail "$EXIT_USAGE" "$name=$value in $env_file: write it as <N>s, <N>m or <N>ms"
  fi
}

# Port and drain timings: the app reads them from the env file, and so does
# the swap, so the readiness probe and `docker stop` match what the app does.
read_host_settings() {
  local bind drain grace
  bind="$(env_file_value PAYMENTS_BIND)"
  bind="${bind:-0.0.0.0:8080}"
  port="${bind##*:}"
  probe_host="${bind%:*}"
  [[ "$port" =~ ^[0-9]+$ && "$bind" == *:* ]] \
    || fail "$EXIT_USAGE" "PAYMENTS_BIND=$bind in $env_file is not <address>:<port>"
  case "$probe_host" in
    0.0.0.0) probe_host=127.0.0.1 ;;
    "[::]") probe_host="[::1]" ;;
  esac
  drain="$(env_file_value PAYMENTS_DRAIN_DELAY)"
  grace="$(env_file_value PAYMENTS_SHUTDOWN_GRACE)"
  drain_delay="$(duration_seconds PAYMENTS_DRAIN_DELAY "${drain:-0s}")"
  shutdown_grace="$(duration_seconds PAYMENTS_SHUTDOWN_GRACE "${grace:-30s}")"
}

check_arguments() {
  if (($# != 1)) || [[ -z "$1" ]] || [[ "$1" == -* && "$1" != "--rollback" ]]; then
    echo "usage: payments-swap <image-uri> | payments-swap --rollback" >&2
    exit "$EXIT_USAGE"
  fi
  local value
  for value in "$stop_margin" "$ready_timeout" "$ready_passes" "$probe_timeout" "$migrate_timeout"; do
    [[ "$value" =~ ^[0-9]+$ ]] || fail "$EXIT_USAGE" "'$value' is not a whole number (check the tunables)"
  done
  [[ "$run_migrations" == "true" || "$run_migrations" == "false" ]] \
    || fail "$EXIT_USAGE" "RUN_MIGRATIONS must be true or false, not '$run_migrations'"
  [[ "$handover" == "true" || "$handover" == "false" ]] \
    || fail "$EXIT_USAGE" "HANDOVER must be true or false, not '$handover'"
  [[ "$pull_policy" == "always" || "$pull_policy" == "missing" ]] \
    || fail "$EXIT_USAGE" "PULL_POLICY must be always or missing, not '$pull_policy'"
  [[ "$container_name" =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ ]] \
    || fail "$EXIT_USAGE" "PAYMENTS_CONTAINER='$container_name' is not a container name"
  [[ -f "$env_file" ]] || fail "$EXIT_USAGE" "env file $env_file is missing"
  read_host_settings
}

warn_without_request_migration() {
  local setting=/proc/sys/net/ipv4/tcp_migrate_req
  if [[ -r "$setting" && "$(cat "$setting")" != "1" ]]; then
    log "warning: net.ipv4.tcp_migrate_req is not 1; connections queued on the old listener may be reset when it closes"
  fi
}

hold_host_lock() {
  mkdir -p "$(dirname "$lock_file")"
  exec 9>"$lock_file"
  flock --nonblock 9 || fail "$EXIT_LOCKED" "another swap holds $lock_file"
}

pull_image() {
  local image="$1"
  if [[ "$pull_policy" == "missing" ]] && docker image inspect "$image" >/dev/null 2>&1; then
    log "PULL_POLICY=missing: $image is on this host already; not pulling"
    return 0
  fi
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

# Running and never restarted: a process that exits is restarted by Docker
# (--restart unless-stopped) and shows as "restarting" or with a restart count.
container_runs_steadily() {
  local state
  state="$(docker container inspect --format '{{.State.Status}} {{.RestartCount}}' "$1" 2>/dev/null)" || return 1
  [[ "$state" == "running 0" ]]
}

container_image_id() {
  docker container inspect --format '{{.Image}}' "$1"
}

# One readiness probe of container NAME: the image's own health check
# command, run inside it. It asks PAYMENTS_HEALTHCHECK_URL and, since the
# container has PAYMENTS_INSTANCE_ID, passes only on an answer of this
# container's process. Returns 0 ready, 1 not ready, 2 answered by another
# process on the shared port (which says nothing about NAME).
probe_readiness() {
  local output
  if output="$(timeout "$probe_timeout" docker exec "$1" /usr/local/bin/payments healthcheck 2>&1)"; then
    return 0
  fi
  [[ "$output" == *"answered by another process"* ]] && return 2
  return 1
}

# Whether NAME's own process answers ready: the first conclusive probe
# decides (at most 20 probes).
container_answers_ready() {
  local attempt status
  for ((attempt = 0; attempt < 20; attempt++)); do
    status=0
    probe_readiness "$1" || status=$?
    case "$status" in
      0) return 0 ;;
      1) return 1 ;;
    esac
  done
  return 1
}

already_running() {
  local wanted_id="$1"
  container_exists "$container_name" \
    && container_is_running "$container_name" \
    && [[ "$(container_image_id "$container_name")" == "$wanted_id" ]] \
    && container_answers_ready "$container_name"
}

# SIGTERM: the drain delay, then the shutdown grace.
stop_timeout() {
  echo $((drain_delay + shutdown_grace + stop_margin))
}

# SIGUSR2: no drain delay, only the shutdown grace.
handover_timeout() {
  echo $((shutdown_grace + stop_margin))
}

# The arguments of the next `docker run`, built by the add_* functions.
run_args=()

# The secret files the app reads and the *_FILE variable that names each.
readonly secret_files=(
  database-url=PAYMENTS_DATABASE_URL_FILE
  session-key=PAYMENTS_SESSION_KEY_FILE
  stripe-secret-key=PAYMENTS_STRIPE_SECRET_KEY_FILE
  stripe-webhook-secret=PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE
)

# The secrets directory, mounted read-only, and the *_FILE variables for the
# files in it. --mount (not --volume) so a missing directory is an error
# instead of an empty directory docker would create.
add_secret_args() {
  if [[ -d "$secrets_dir" ]]; then
    run_args+=(--mount "type=bind,source=$secrets_dir,target=$secrets_mount,readonly")
    local entry
    for entry in "${secret_files[@]}"; do
      if [[ -f "$secrets_dir/${entry%%=*}" ]]; then
        run_args+=(--env "${entry#*=}=$secrets_mount/${entry%%=*}")
      fi
    done
  fi
}

# Options every payments container gets: non-root, read-only, no
# capabilities, the host's env file.
add_hardening_args() {
  run_args+=(
    --network host
    --user "$app_user"
    --read-only
    --tmpfs "/tmp:rw,noexec,nosuid,size=64m"
    --cap-drop ALL
    --security-opt no-new-privileges
    --env-file "$env_file"
  )
}

migrate() {
  local image="$1"
  if [[ "$run_migrations" != "true" ]]; then
    log "RUN_MIGRATIONS=false: not running the migrations"
    return 0
  fi
  run_args=(--rm)
  add_hardening_args
  add_secret_args
  log "running the migrations of $image"
  timeout "$migrate_timeout" docker run "${run_args[@]}" "$image" migrate 1>&2
}

start_new_container() {
  local name="$1" image="$2"
  run_args=(
    --detach
    --name "$name"
    --label "$service_label"
    --restart unless-stopped
    --stop-timeout "$(stop_timeout)"
  )
  add_hardening_args
  run_args+=(
    --env PAYMENTS_REUSE_PORT=true
    --env "PAYMENTS_HEALTHCHECK_URL=http://$probe_host:$port/readyz"
    --env "PAYMENTS_INSTANCE_ID=$name"
  )
  add_secret_args
  log "starting $name from $image"
  docker run "${run_args[@]}" "$image" serve >/dev/null
}

# READY_PASSES passes of the new process in a row. A probe answered by
# another process is asked again after 0.2 s and neither counts nor resets.
wait_until_ready() {
  local name="$1" passes=0 others=0 status deadline=$((SECONDS + ready_timeout))
  log "waiting for $name to be ready (at most ${ready_timeout}s)"
  while ((SECONDS <= deadline)); do
    if ! container_runs_steadily "$name"; then
      log "$name stopped or restarted before it became ready"
      return 1
    fi
    status=0
    probe_readiness "$name" || status=$?
    case "$status" in
      0)
        passes=$((passes + 1))
        if ((passes >= ready_passes)); then
          log "$name is ready (probes answered by another process on the port: $others)"
          return 0
        fi
        ;;
      2)
        others=$((others + 1))
        sleep 0.2
        continue
        ;;
      *) passes=0 ;;
    esac
    sleep "$poll_interval"
  done
  log "$name was not ready within ${ready_timeout}s (probes answered by another process on the port: $others)"
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

# Whether NAME is one of this service's app containers: `payments`, or
# `payments-<time>-<pid>` (started by a swap, renamed at its end, so one left
# by an interrupted swap). Not `payments-previous`, nor containers of another
# name on the same engine.
is_app_container() {
  local name="$1"
  [[ "$name" == "$container_name" ]] && return 0
  [[ "$name" == "$container_name-"* && "${name#"$container_name-"}" =~ ^[0-9]{14}-[0-9]+$ ]]
}

other_service_containers() {
  local keep="$1" name
  while IFS= read -r name; do
    [[ -n "$name" && "$name" != "$keep" ]] && is_app_container "$name" && echo "$name"
  done < <(docker ps --all --filter "label=$service_label" --format '{{.Names}}')
  return 0
}

# Whether the main process of container NAME catches SIGUSR2 (bit 12 of the
# SigCgt mask in its /proc status): an app that knows the handover.
catches_handover_signal() {
  local pid mask
  pid="$(docker container inspect --format '{{.State.Pid}}' "$1" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[1-9][0-9]*$ ]] || return 1
  mask="$(awk '$1 == "SigCgt:" { print $2 }' "$proc_dir/$pid/status" 2>/dev/null)"
  [[ "$mask" =~ ^[0-9a-fA-F]+$ ]] || return 1
  (((16#$mask >> 11) & 1))
}

# The new container already serves the port, so the old one may close its
# listener at once: SIGUSR2, wait for it to finish its in-flight requests and
# exit, and keep `docker stop` as the fallback should it still run.
hand_over_and_stop() {
  local name="$1" timeout
  timeout="$(handover_timeout)"
  log "handing the port over: SIGUSR2 to $name (up to ${timeout}s to finish its requests)"
  if docker kill --signal USR2 "$name" >/dev/null; then
    timeout "$timeout" docker wait "$name" >/dev/null 2>&1 \
      || log "$name did not exit within ${timeout}s of SIGUSR2; stopping it"
  else
    log "could not signal $name; stopping it"
  fi
  docker stop --time "$timeout" "$name" >/dev/null
}

drain_and_stop() {
  local name="$1"
  log "stopping $name (SIGTERM, up to $(stop_timeout)s to drain and finish)"
  docker stop --time "$(stop_timeout)" "$name" >/dev/null
}

# The stopped container NAME becomes payments-previous: its image stays on
# the host for --rollback, and it never starts again by itself.
keep_as_previous() {
  local name="$1"
  if container_exists "$previous_name"; then
    docker rm --force "$previous_name" >/dev/null || return 1
  fi
  docker rename "$name" "$previous_name" || return 1
  log "kept $name as $previous_name ($(docker container inspect --format '{{.Config.Image}}' "$previous_name" 2>/dev/null || echo "?"))"
}

# Stops NAME gracefully, then keeps it as payments-previous (KEEP=keep) or
# removes it.
retire_container() {
  local name="$1" keep="$2"
  # Docker would start it again when it exits on SIGUSR2 (unless-stopped).
  docker update --restart no "$name" >/dev/null 2>&1 || true
  if [[ "$handover" == "true" ]] && container_is_running "$name" && catches_handover_signal "$name"; then
    hand_over_and_stop "$name" || return 1
  else
    drain_and_stop "$name" || return 1
  fi
  if [[ "$keep" == "keep" ]]; then
    keep_as_previous "$name"
  else
    docker rm "$name" >/dev/null
  fi
}

# The running `payments` is kept as the previous version when it runs another
# image than the new container; the others are removed.
retire_old_containers() {
  local new_name="$1" new_image_id="$2" name keep failed=0
  local old_names=()
  mapfile -t old_names < <(other_service_containers "$new_name")
  for name in "${old_names[@]}"; do
    keep=remove
    if [[ "$name" == "$container_name" && "$(container_image_id "$name" 2>/dev/null)" != "$new_image_id" ]]; then
      keep=keep
    fi
    retire_container "$name" "$keep" || { log "could not stop or remove $name"; failed=1; }
  done
  return "$failed"
}

# The image id of payments-previous (for --rollback).
previous_image_id() {
  container_exists "$previous_name" \
    || fail "$EXIT_NO_PREVIOUS" "there is no $previous_name container to roll back to; nothing changed"
  container_image_id "$previous_name"
}

main() {
  check_arguments "$@"
  hold_host_lock
  warn_without_request_migration

  local image wanted_id
  if [[ "$1" == "--rollback" ]]; then
    wanted_id="$(previous_image_id)" || exit "$EXIT_NO_PREVIOUS"
    image="$wanted_id"
    log "rolling back to the image of $previous_name: $(docker container inspect --format '{{.Config.Image}}' "$previous_name") ($wanted_id)"
  else
    image="$1"
    pull_image "$image"
    wanted_id="$(image_id "$image")" || fail "$EXIT_PULL" "pulled $image but cannot inspect it"
  fi
  if already_running "$wanted_id"; then
    log "$container_name already runs $image ($wanted_id) and is ready; nothing to do"
    exit 0
  fi

  if [[ "$1" == "--rollback" ]]; then
    log "rollback: not running migrations"
  elif ! migrate "$image"; then
    fail "$EXIT_MIGRATE" "the migrations of $image failed; no container was started, the old one keeps serving"
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

  if ! retire_old_containers "$new_name" "$wanted_id"; then
    fail "$EXIT_OLD_CLEANUP" "$new_name serves, but old containers remain (docker ps -a)"
  fi
  docker rename "$new_name" "$container_name" \
    || fail "$EXIT_OLD_CLEANUP" "$new_name serves but could not be renamed to $container_name"
  log "$container_name now runs $image"
}

main "$@"
