# shellcheck shell=bash
# scripts/rehearse-deploy's failure cases (never ready, crash at start,
# migration fails, killed mid-swap) and its rollback, each run on host a
# under the rehearsal's load. Sourced by scripts/rehearse-deploy; the
# functions use its globals and helpers (run_swap, swap_logged,
# start_swap_in_background, expect_host_on, add_window, failure, ...).
# shellcheck disable=SC2154,SC2034 # globals declared by scripts/rehearse-deploy

# never ready: the swap must exit 5, the old container keep serving. While
# the new container waits, count what the port answers: /readyz 200 without
# an instance id (the check before) against the new container's own check.
case_never_ready() {
  local before started log_file new_name="" i port_ok=0 own_ok=0 probes=20 deadline
  before="$(current_version_image a)"
  started="$(now)"
  swap_count=$((swap_count + 1))
  log_file="$scratch/swap-$swap_count-a-never-ready.log"
  start_swap_in_background a "$log_file" "$image_repo:never-ready"
  local pid="$swap_pid" status=0
  deadline=$((SECONDS + 20))
  until new_name="$(grep -o "waiting for $prefix-a-[0-9]*-[0-9]* " "$log_file" | awk '{ print $3 }')" && [[ -n "$new_name" ]]; do
    ((SECONDS < deadline)) || break
    sleep 0.1
  done
  if [[ -n "$new_name" ]]; then
    for ((i = 0; i < probes; i++)); do
      [[ "$(curl --silent --max-time 2 --output /dev/null --write-out '%{http_code}' "http://127.0.0.1:${host_port[a]}/readyz")" == 200 ]] \
        && port_ok=$((port_ok + 1))
      docker exec "$new_name" /usr/local/bin/payments healthcheck >/dev/null 2>&1 && own_ok=$((own_ok + 1))
    done
    case_notes[never]="while $new_name waited, the port answered /readyz 200 to $port_ok of $probes probes without an instance id (what the swap's check passed on before); the new container's own check passed $own_ok of $probes; "
    ((own_ok == 0)) || failure "never ready: the never-ready container's own check passed"
  else
    failure "never ready: the swap did not start a new container"
  fi
  wait "$pid" || status=$?
  add_window never "$started"
  case_notes[never]+="swap exit $status; "
  ((status == 5)) || failure "never ready: the swap exited $status, not 5"
  expect_host_on never a "$before"
}

case_crash_at_start() {
  local before started
  before="$(current_version_image a)"
  started="$(now)"
  swap_logged a crash-at-start "$image_repo:crash-at-start"
  add_window crash "$started"
  case_notes[crash]="swap exit $swap_status; "
  ((swap_status == 5)) || failure "crash at start: the swap exited $swap_status, not 5"
  expect_host_on crash a "$before"
}

case_migration_fails() {
  local before started
  before="$(current_version_image a)"
  started="$(now)"
  swap_logged a migration-fails "$image_repo:migration-fails"
  add_window migration "$started"
  case_notes[migration]="swap exit $swap_status; "
  ((swap_status == 8)) || failure "migration fails: the swap exited $swap_status, not 8"
  expect_host_on migration a "$before"
}

# The image (v1 or v2) host HOST runs now.
current_version_image() {
  if [[ "$(host_image "$1")" == "$(image_id_of "$image_repo:v1")" ]]; then
    echo "$image_repo:v1"
  else
    echo "$image_repo:v2"
  fi
}

# The docker call of each step (a substring of its arguments); the swap is
# killed right after the first such call returns.
kill_pattern() {
  case "$1" in
    pull) echo "image inspect" ;;
    migrate) echo " migrate" ;;
    start) echo "run --detach" ;;
    wait) echo "healthcheck" ;;
    handover) echo "kill --signal USR2 $prefix-a" ;;
    stop) echo "stop --time" ;;
    keep) echo "rename $prefix-a $prefix-a-previous" ;;
  esac
}

# A `docker` first on the swap's PATH: runs the real one, then SIGKILLs the
# swap ($KILL_SWAP_PID) after the first call whose arguments contain
# $KILL_AFTER. So each kill lands exactly after its step, however loaded the
# machine is.
write_kill_shim() {
  mkdir -p "$scratch/kill-shim"
  # shellcheck disable=SC2016 # the shim's own expansions
  {
    echo '#!/usr/bin/env bash'
    echo 'set -uo pipefail'
    echo 'status=0'
    printf '%q "$@" || status=$?\n' "$(command -v docker)"
    echo 'if [[ -n "${KILL_AFTER:-}" && "$*" == *"$KILL_AFTER"* ]] && mkdir "$KILL_DONE" 2>/dev/null; then'
    echo '  kill -KILL "$KILL_SWAP_PID" 2>/dev/null'
    echo 'fi'
    echo 'exit "$status"'
  } >"$scratch/kill-shim/docker"
  chmod 0755 "$scratch/kill-shim/docker"
}

# Kills the swap (SIGKILL) right after its docker call of STEP, runs it again
# (a swap killed while a child held its lock gets exit 7: it is run again
# until the lock is free, 60 s at most), and expects the host converged on
# the new version with nothing left over.
kill_at_step() {
  local step="$1" target started log_file pid status=0 deadline leftovers
  target="$image_repo:$(other_version a)"
  started="$(now)"
  swap_count=$((swap_count + 1))
  log_file="$scratch/swap-$swap_count-a-kill-$step.log"
  PATH="$scratch/kill-shim:$PATH" KILL_AFTER="$(kill_pattern "$step")" KILL_DONE="$scratch/killed-$step" \
    start_swap_in_background a "$log_file" "$target"
  pid="$swap_pid"
  # (without the shell's "Killed" notice)
  { wait "$pid"; } 2>/dev/null || status=$?
  if [[ -d "$scratch/killed-$step" ]] && ((status == 137)); then
    case_notes[killed]+="$step: killed right after \`docker …$(kill_pattern "$step")…\`"
  else
    failure "killed mid-swap: the swap ended (exit $status) without being killed at its step '$step'"
  fi
  deadline=$((SECONDS + 60))
  while true; do
    swap_logged a "rerun-after-$step" "$target"
    ((swap_status == 7 && SECONDS < deadline)) || break
    sleep 0.5
  done
  add_window killed "$started"
  ((swap_status == 0)) || failure "killed mid-swap at $step: the second run exited $swap_status"
  case_notes[killed]+=", run again: exit $swap_status; "
  leftovers="$(host_containers a | awk -v p="$prefix-a" '$1 != p && $1 != p "-previous"' | paste -sd' ')"
  [[ -z "$leftovers" ]] || failure "killed mid-swap at $step: containers left over: $leftovers"
  expect_host_on killed a "$target"
}

case_killed_mid_swap() {
  local step
  write_kill_shim
  for step in "${kill_steps[@]}"; do
    kill_at_step "$step"
  done
}

rollback_seconds=""
rollback_note=""
demonstrate_rollback() {
  local before_previous started status
  before_previous="$(docker container inspect --format '{{.Image}}' "$prefix-a-previous" 2>/dev/null || echo none)"
  started=$SECONDS
  local t0 t1
  t0="$(now)"
  swap_logged a rollback --rollback
  t1="$(now)"
  status=$swap_status
  rollback_seconds="$(seconds_between "$t0" "$t1" 1)"
  add_window rollback "$t0"
  if ((status != 0)); then
    failure "payments-swap --rollback exited $status"
  elif [[ "$(host_image a)" != "$before_previous" ]]; then
    failure "payments-swap --rollback did not bring back the previous image"
  fi
  rollback_note="host a answered as $(versions_answering "${host_port[a]}") after it; $((SECONDS - started)) s wall"
}
