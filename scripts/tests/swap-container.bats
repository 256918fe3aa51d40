#!/usr/bin/env bats
# deploy/ec2/swap-container.sh against a fake docker: the order of operations,
# the migrations, the handover (SIGUSR2) to the new container and its
# fallbacks, the rollback when the new container never becomes ready, the
# host contract (env file, secrets on tmpfs) and the exit codes.

# shellcheck source-path=SCRIPTDIR source=lib/common.bash
source "$BATS_TEST_DIRNAME/lib/common.bash"

old_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/payments/production:1.2.3"
new_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/payments/production:1.3.0"

setup() {
  use_fakes
  swap="$project_root/deploy/ec2/swap-container.sh"
  export PAYMENTS_ENV_FILE="$BATS_TEST_TMPDIR/app.env"
  export PAYMENTS_SECRETS_DIR="$BATS_TEST_TMPDIR/secrets"
  export PAYMENTS_SWAP_LOCK="$BATS_TEST_TMPDIR/swap.lock"
  export PROC_DIR="$FAKE_STATE/proc"
  export READY_TIMEOUT_SECONDS=2 POLL_INTERVAL_SECONDS=0 READY_PASSES=3
  unset STOP_MARGIN_SECONDS RUN_MIGRATIONS HANDOVER
  # What the user data writes (infrastructure/modules/web), with a 10 s drain.
  write_env_file 0.0.0.0:8080 10s 30s
}

# The host's env file: PAYMENTS_BIND, PAYMENTS_DRAIN_DELAY, PAYMENTS_SHUTDOWN_GRACE.
write_env_file() {
  {
    echo "PAYMENTS_BIND=$1"
    echo "PAYMENTS_PUBLIC_URL=https://payments.example.org"
    echo "PAYMENTS_LOG_FORMAT=json"
    echo "PAYMENTS_TRUST_PROXY=true"
    echo "PAYMENTS_DRAIN_DELAY=$2"
    echo "PAYMENTS_SHUTDOWN_GRACE=$3"
  } >"$PAYMENTS_ENV_FILE"
}

# A container that was running before the swap: name, image, ready (yes/no),
# whether its main process catches SIGUSR2 (yes/no: an image from before the
# handover).
existing_container() {
  local dir="$FAKE_STATE/containers/$1" pid caught=0000000000004802
  mkdir -p "$dir"
  echo "sha256:$(printf '%s' "$2" | sha256sum | cut -c1-64)" >"$dir/image"
  echo true >"$dir/running"
  echo "${3:-yes}" >"$dir/ready"
  echo 0 >"$dir/execs"
  [[ "${4:-yes}" == "yes" ]] || caught=0000000000004002
  pid=$((500 + $(find "$FAKE_STATE/containers" -mindepth 1 -maxdepth 1 | wc -l)))
  mkdir -p "$FAKE_STATE/proc/$pid"
  printf 'Name:\tpayments\nSigCgt:\t%s\n' "$caught" >"$FAKE_STATE/proc/$pid/status"
  echo "$pid" >"$dir/pid"
}

container_image() {
  cat "$FAKE_STATE/containers/$1/image"
}

# The fake engine's containers, sorted, on one line.
container_names() {
  find "$FAKE_STATE/containers" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | paste -sd' '
}

image_id() {
  echo "sha256:$(printf '%s' "$1" | sha256sum | cut -c1-64)"
}

new_container_name() {
  grep -o -m 1 -- '--name payments-[0-9]*-[0-9]*' "$FAKE_STATE/calls" | cut -d' ' -f2
}

@test "swap: pull, migrate, start beside the old one, wait for ready, hand over, stop the old one, keep it, rename" {
  existing_container payments "$old_image"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  new_name="$(new_container_name)"
  # SIGUSR2 first; docker stop (SIGTERM) only after the old one has exited,
  # so it never starts a drain. Its timeout is grace + margin: 30 + 10.
  assert_call_order \
    "docker pull --quiet $new_image" \
    "$new_image migrate" \
    "docker run --detach --name $new_name" \
    "docker exec $new_name /usr/local/bin/payments healthcheck" \
    "docker update --restart no payments" \
    "docker kill --signal USR2 payments" \
    "handed over payments" \
    "docker wait payments" \
    "docker stop --time 40 payments" \
    "stopped payments" \
    "docker rename payments payments-previous" \
    "docker rename $new_name payments"
  [ "$(count_calls "docker kill")" -eq 1 ]
  # the previous version stays on the host, stopped, for --rollback
  [ "$(container_image payments-previous)" = "$(image_id "$old_image")" ]
  [ "$(cat "$FAKE_STATE/containers/payments-previous/running")" = "false" ]
  [ "$(count_calls "docker exec $new_name /usr/local/bin/payments healthcheck")" -eq 3 ]
  [ "$(container_image payments)" = "$(image_id "$new_image")" ]
  [ ! -e "$FAKE_STATE/containers/$new_name" ]
}

@test "the new container shares the port: host network, SO_REUSEPORT, the host's env file" {
  existing_container payments "$old_image"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  run_call="$(grep -F 'docker run --detach' "$FAKE_STATE/calls")"
  [[ "$run_call" == *"--network host"* ]]
  [[ "$run_call" == *"--env PAYMENTS_REUSE_PORT=true"* ]]
  [[ "$run_call" == *"--env PAYMENTS_HEALTHCHECK_URL=http://127.0.0.1:8080/readyz"* ]]
  [[ "$run_call" == *"--env-file $PAYMENTS_ENV_FILE"* ]]
  # The app's settings come from the env file only, never overridden here.
  [[ "$run_call" != *"--env PAYMENTS_DRAIN_DELAY"* && "$run_call" != *"--env PAYMENTS_BIND"* ]]
  [[ "$run_call" == *"--stop-timeout 50"* ]]
  [[ "$run_call" == *"--read-only"* && "$run_call" == *"--cap-drop ALL"* && "$run_call" == *"--user 10001:10001"* ]]
  [[ "$run_call" == *"--label org.themarkup.service=payments"* ]]
  [[ "$run_call" != *"--health-cmd"* ]]
  [[ "$run_call" == *"$new_image serve" ]]
}

@test "the default host contract is the user data's: /etc/payments/app.env and /run/payments/secrets" {
  # shellcheck disable=SC2016 # the script's text, not an expansion
  grep -qxF 'env_file="${PAYMENTS_ENV_FILE:-/etc/payments/app.env}"' "$swap"
  # shellcheck disable=SC2016
  grep -qxF 'secrets_dir="${PAYMENTS_SECRETS_DIR:-/run/payments/secrets}"' "$swap"
  unset PAYMENTS_ENV_FILE
  run "$swap" "$new_image"
  [ "$status" -eq 2 ]
  [[ "$output" == *"env file /etc/payments/app.env is missing"* ]]
}

@test "the port, drain delay and grace come from the env file: probe URL and stop timeout follow them" {
  existing_container payments "$old_image"
  write_env_file 0.0.0.0:9000 35s 1m
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  run_call="$(grep -F 'docker run --detach' "$FAKE_STATE/calls")"
  [[ "$run_call" == *"--env PAYMENTS_HEALTHCHECK_URL=http://127.0.0.1:9000/readyz"* ]]
  # 35 + 60 + 10: what `docker stop` (SIGTERM, the drain) needs
  [[ "$run_call" == *"--stop-timeout 105"* ]]
  # 60 + 10: the handover has no drain delay
  assert_call_order "docker kill --signal USR2 payments" "docker stop --time 70 payments"
}

@test "without drain settings in the env file the app's defaults count: 0s drain, 30s grace" {
  echo "PAYMENTS_LOG_FORMAT=json" >"$PAYMENTS_ENV_FILE"
  existing_container payments "$old_image"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  assert_called "--env PAYMENTS_HEALTHCHECK_URL=http://127.0.0.1:8080/readyz"
  assert_called "docker stop --time 40 payments"
}

@test "secrets in the secrets directory are mounted read-only and passed as *_FILE, to the migrations too" {
  mkdir -p "$PAYMENTS_SECRETS_DIR"
  # What payments-container writes on an EC2 host.
  touch "$PAYMENTS_SECRETS_DIR/database-url" "$PAYMENTS_SECRETS_DIR/session-key" \
    "$PAYMENTS_SECRETS_DIR/stripe-secret-key" "$PAYMENTS_SECRETS_DIR/stripe-webhook-secret"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  local call
  for call in "docker run --detach" "docker run --rm"; do
    run_call="$(grep -F "$call" "$FAKE_STATE/calls")"
    [[ "$run_call" == *"--mount type=bind,source=$PAYMENTS_SECRETS_DIR,target=/run/secrets/payments,readonly"* ]]
    [[ "$run_call" == *"--env PAYMENTS_DATABASE_URL_FILE=/run/secrets/payments/database-url"* ]]
    [[ "$run_call" == *"--env PAYMENTS_SESSION_KEY_FILE=/run/secrets/payments/session-key"* ]]
    [[ "$run_call" == *"--env PAYMENTS_STRIPE_SECRET_KEY_FILE=/run/secrets/payments/stripe-secret-key"* ]]
    [[ "$run_call" == *"--env PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE=/run/secrets/payments/stripe-webhook-secret"* ]]
    [[ "$run_call" == *"--env-file $PAYMENTS_ENV_FILE"* && "$run_call" == *"--user 10001:10001"* ]]
  done
  refute_called "--volume"
}

@test "Stripe's secrets reach the container only as files: no value in an argument or --env" {
  mkdir -p "$PAYMENTS_SECRETS_DIR"
  printf 'sk_test_%s' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$PAYMENTS_SECRETS_DIR/stripe-secret-key"
  printf 'whsec_%s' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$PAYMENTS_SECRETS_DIR/stripe-webhook-secret"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  refute_called "$(cat "$PAYMENTS_SECRETS_DIR/stripe-secret-key")"
  refute_called "$(cat "$PAYMENTS_SECRETS_DIR/stripe-webhook-secret")"
  refute_called "--env PAYMENTS_STRIPE_SECRET_KEY="
  refute_called "--env PAYMENTS_STRIPE_WEBHOOK_SECRET="
  [[ "$output" != *"sk_test_"* && "$output" != *"whsec_"* ]]
  assert_called "--env PAYMENTS_STRIPE_SECRET_KEY_FILE=/run/secrets/payments/stripe-secret-key"
  assert_called "--env PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE=/run/secrets/payments/stripe-webhook-secret"
}

@test "only the secret files that exist are named: no *_FILE for a missing one" {
  mkdir -p "$PAYMENTS_SECRETS_DIR"
  touch "$PAYMENTS_SECRETS_DIR/database-url" "$PAYMENTS_SECRETS_DIR/stripe-secret-key"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  assert_called "--env PAYMENTS_DATABASE_URL_FILE=/run/secrets/payments/database-url"
  assert_called "--env PAYMENTS_STRIPE_SECRET_KEY_FILE=/run/secrets/payments/stripe-secret-key"
  refute_called "PAYMENTS_SESSION_KEY_FILE="
  refute_called "PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE="
}

@test "the public URL comes from the host's env file, never from an override" {
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  grep -qxF "PAYMENTS_PUBLIC_URL=https://payments.example.org" "$PAYMENTS_ENV_FILE"
  assert_called "--env-file $PAYMENTS_ENV_FILE"
  refute_called "--env PAYMENTS_PUBLIC_URL"
}

@test "without a secrets directory nothing is mounted" {
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  refute_called "--mount"
  refute_called "_FILE="
}

@test "failed migrations: exit 8, no container started, the old one untouched" {
  existing_container payments "$old_image"
  FAKE_DOCKER_MIGRATE_FAIL=1 run "$swap" "$new_image"
  [ "$status" -eq 8 ]
  [[ "$output" == *"migrations of $new_image failed"* ]]
  refute_called "docker run --detach"
  refute_called "docker stop"
  [ "$(cat "$FAKE_STATE/containers/payments/running")" = "true" ]
  [ "$(container_image payments)" = "$(image_id "$old_image")" ]
}

@test "RUN_MIGRATIONS=false skips the migrations" {
  RUN_MIGRATIONS=false run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  refute_called "docker run --rm"
  assert_called "docker run --detach"
}

@test "first start on a fresh host: no old container to stop" {
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  refute_called "docker stop"
  assert_call_order "docker pull" "$new_image migrate" "docker run --detach" "docker rename"
  [ "$(container_image payments)" = "$(image_id "$new_image")" ]
}

@test "idempotent: the same image already running and ready changes nothing" {
  existing_container payments "$new_image"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  [[ "$output" == *"nothing to do"* ]]
  assert_call_order "docker pull" "docker exec payments /usr/local/bin/payments healthcheck"
  refute_called "docker run"
  refute_called "migrate"
  refute_called "docker stop"
  refute_called "docker rename"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  refute_called "docker run"
}

@test "the same image in a container that is not ready is replaced" {
  existing_container payments "$new_image" no
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  assert_call_order "docker run --detach" "docker kill --signal USR2 payments" "docker stop --time 40 payments" "docker rename"
}

@test "pull failure: exit 3, nothing started, the old container untouched" {
  existing_container payments "$old_image"
  FAKE_DOCKER_PULL_FAIL=1 run "$swap" "$new_image"
  [ "$status" -eq 3 ]
  [[ "$output" == *"could not pull"* ]]
  refute_called "docker run"
  refute_called "docker stop"
  refute_called "docker rm"
  [ "$(cat "$FAKE_STATE/containers/payments/running")" = "true" ]
  [ "$(container_image payments)" = "$(image_id "$old_image")" ]
}

@test "never ready: the new container is removed within the timeout, the old one keeps serving" {
  existing_container payments "$old_image"
  start=$SECONDS
  FAKE_DOCKER_NEW_READY=never READY_TIMEOUT_SECONDS=1 POLL_INTERVAL_SECONDS=0.1 run "$swap" "$new_image"
  [ "$status" -eq 5 ]
  ((SECONDS - start < 10))
  new_name="$(new_container_name)"
  assert_call_order \
    "docker run --detach --name $new_name" \
    "docker exec $new_name /usr/local/bin/payments healthcheck" \
    "docker logs --tail 50 $new_name" \
    "docker stop --time 50 $new_name" \
    "docker rm --force $new_name"
  refute_call_exactly "docker stop --time 50 payments"
  refute_called "docker kill"
  refute_called "docker rename"
  [ ! -e "$FAKE_STATE/containers/$new_name" ]
  [ "$(cat "$FAKE_STATE/containers/payments/running")" = "true" ]
  [ "$(container_image payments)" = "$(image_id "$old_image")" ]
}

@test "a new container that exits at once is rolled back without waiting for the timeout" {
  existing_container payments "$old_image"
  start=$SECONDS
  FAKE_DOCKER_NEW_READY=exit READY_TIMEOUT_SECONDS=30 run "$swap" "$new_image"
  [ "$status" -eq 5 ]
  ((SECONDS - start < 10))
  refute_called "docker exec payments-"
  refute_call_exactly "docker stop --time 50 payments"
  refute_called "docker kill"
  [ "$(container_image payments)" = "$(image_id "$old_image")" ]
}

@test "readiness must hold: a probe that keeps failing every other time never passes" {
  existing_container payments "$old_image"
  FAKE_DOCKER_NEW_READY=flaky READY_TIMEOUT_SECONDS=1 POLL_INTERVAL_SECONDS=0.05 run "$swap" "$new_image"
  [ "$status" -eq 5 ]
  [ "$(container_image payments)" = "$(image_id "$old_image")" ]
}

@test "a probe that hangs is cut off, and the swap still ends within its bounds" {
  existing_container payments "$old_image"
  start=$SECONDS
  FAKE_DOCKER_NEW_READY=hang PROBE_TIMEOUT_SECONDS=1 READY_TIMEOUT_SECONDS=1 run "$swap" "$new_image"
  [ "$status" -eq 5 ]
  ((SECONDS - start < 15))
  [ "$(container_image payments)" = "$(image_id "$old_image")" ]
}

@test "a slow start is waited for" {
  existing_container payments "$old_image"
  FAKE_DOCKER_NEW_READY=after:4 run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  new_name="$(new_container_name)"
  [ "$(count_calls "docker exec $new_name /usr/local/bin/payments healthcheck")" -eq 6 ]
  [ "$(container_image payments)" = "$(image_id "$new_image")" ]
}

@test "slow stop: the old container gets grace + margin after SIGUSR2, and removal waits for it" {
  existing_container payments "$old_image"
  start=$SECONDS
  write_env_file 0.0.0.0:8080 5s 20s
  FAKE_DOCKER_STOP_SECONDS=2 STOP_MARGIN_SECONDS=5 run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  ((SECONDS - start >= 2))
  new_name="$(new_container_name)"
  assert_call_order \
    "--stop-timeout 30" \
    "docker exec $new_name /usr/local/bin/payments healthcheck" \
    "docker kill --signal USR2 payments" \
    "docker stop --time 25 payments" \
    "stopped payments" \
    "docker rename payments payments-previous" \
    "docker rename $new_name payments"
}

@test "an old container that ignores SIGUSR2 is stopped after grace + margin, then removed" {
  existing_container payments "$old_image"
  write_env_file 0.0.0.0:8080 10s 1s
  start=$SECONDS
  FAKE_DOCKER_USR2=ignore STOP_MARGIN_SECONDS=1 run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  # docker wait gave up after 1 + 1 s; the fallback stop does not wait for the drain
  ((SECONDS - start >= 2 && SECONDS - start < 10))
  [[ "$output" == *"did not exit within 2s of SIGUSR2"* ]]
  assert_call_order \
    "docker kill --signal USR2 payments" \
    "docker wait payments" \
    "docker stop --time 2 payments" \
    "stopped payments" \
    "docker rename payments payments-previous" \
    "docker rename payments-2"
  refute_called "handed over"
}

@test "a failed SIGUSR2 still stops and removes the old container" {
  existing_container payments "$old_image"
  FAKE_DOCKER_KILL_FAIL=1 run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  [[ "$output" == *"could not signal payments"* ]]
  assert_call_order "docker kill --signal USR2 payments" "docker stop --time 40 payments" "docker rename payments payments-previous" "docker rename payments-2"
  refute_called "docker wait"
}

@test "an old container from before the handover (SIGUSR2 not caught) gets SIGTERM and the drain" {
  existing_container payments "$old_image" yes no
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  refute_called "docker kill"
  assert_call_order "docker run --detach" "docker stop --time 50 payments" "docker rename payments payments-previous" "docker rename payments-2"
}

@test "an old container whose process cannot be read gets SIGTERM and the drain" {
  existing_container payments "$old_image"
  rm -rf "$FAKE_STATE/proc"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  refute_called "docker kill"
  assert_called "docker stop --time 50 payments"
}

@test "HANDOVER=false stops old containers with SIGTERM and the drain" {
  existing_container payments "$old_image"
  HANDOVER=false run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  refute_called "docker kill"
  assert_call_order "docker stop --time 50 payments" "docker rename payments payments-previous" "docker rename payments-2"
}

@test "an old container that will not stop: exit 6, the new one keeps serving" {
  existing_container payments "$old_image"
  FAKE_DOCKER_STOP_FAIL=1 run "$swap" "$new_image"
  [ "$status" -eq 6 ]
  new_name="$(new_container_name)"
  refute_called "docker rename"
  [ "$(cat "$FAKE_STATE/containers/$new_name/running")" = "true" ]
}

@test "start failure: exit 4, the half-created container removed, the old one untouched" {
  existing_container payments "$old_image"
  FAKE_DOCKER_RUN_FAIL=1 run "$swap" "$new_image"
  [ "$status" -eq 4 ]
  new_name="$(new_container_name)"
  assert_call_order "docker run --detach" "docker rm --force $new_name"
  refute_called "docker stop"
  [ ! -e "$FAKE_STATE/containers/$new_name" ]
  [ "$(container_image payments)" = "$(image_id "$old_image")" ]
}

@test "containers left by an interrupted swap are retired too" {
  existing_container payments "$old_image"
  existing_container payments-20260101000000-42 "$old_image"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  assert_call_order "docker kill --signal USR2 payments" "docker stop --time 40 payments"
  assert_call_order "docker kill --signal USR2 payments-20260101000000-42" "docker stop --time 40 payments-20260101000000-42"
  assert_called "docker rm payments-20260101000000-42"
  [ "$(container_names)" = "payments payments-previous" ]
}

@test "usage and host configuration errors exit 2 and change nothing" {
  run "$swap"
  [ "$status" -eq 2 ]
  run "$swap" a b
  [ "$status" -eq 2 ]
  PAYMENTS_ENV_FILE="$BATS_TEST_TMPDIR/missing.env" run "$swap" "$new_image"
  [ "$status" -eq 2 ]
  READY_PASSES=3x run "$swap" "$new_image"
  [ "$status" -eq 2 ]
  RUN_MIGRATIONS=yes run "$swap" "$new_image"
  [ "$status" -eq 2 ]
  HANDOVER=yes run "$swap" "$new_image"
  [ "$status" -eq 2 ]
  write_env_file 0.0.0.0:8080 10 30s
  run "$swap" "$new_image"
  [ "$status" -eq 2 ]
  [[ "$output" == *"PAYMENTS_DRAIN_DELAY=10 in"* ]]
  write_env_file localhost 10s 30s
  run "$swap" "$new_image"
  [ "$status" -eq 2 ]
  [ ! -s "$FAKE_STATE/calls" ]
}

@test "a second swap while one runs exits 7" {
  exec 8>"$PAYMENTS_SWAP_LOCK"
  flock 8
  run "$swap" "$new_image"
  [ "$status" -eq 7 ]
  [ ! -s "$FAKE_STATE/calls" ]
}

@test "each new container is named in its PAYMENTS_INSTANCE_ID, so its healthcheck asks its own process" {
  existing_container payments "$old_image"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  new_name="$(new_container_name)"
  assert_called "--env PAYMENTS_INSTANCE_ID=$new_name $new_image serve"
}

@test "the old process answering on the shared port never makes a broken new container ready" {
  # Every probe of the new container is answered by the old, ready process
  # (SO_REUSEPORT gave it the connection): the healthcheck says so, and it
  # must count for nothing.
  existing_container payments "$old_image"
  FAKE_DOCKER_NEW_READY=other READY_TIMEOUT_SECONDS=1 POLL_INTERVAL_SECONDS=0.1 run "$swap" "$new_image"
  [ "$status" -eq 5 ]
  [[ "$output" == *"answered by another process on the port: "* ]]
  refute_called "docker kill"
  refute_called "docker rename"
  [ "$(cat "$FAKE_STATE/containers/payments/running")" = "true" ]
  [ "$(container_image payments)" = "$(image_id "$old_image")" ]
}

@test "answers of another process neither count nor reset: a ready new process passes on its own answers" {
  existing_container payments "$old_image"
  FAKE_DOCKER_NEW_READY=shared run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  new_name="$(new_container_name)"
  # own answers on probes 2, 4 and 6; 1, 3 and 5 came from the old process
  [ "$(count_calls "docker exec $new_name /usr/local/bin/payments healthcheck")" -eq 6 ]
  [ "$(container_image payments)" = "$(image_id "$new_image")" ]
}

@test "idempotence asks the running container's own process too" {
  existing_container payments "$new_image" other
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  # its probes were all answered by another process: not known ready, so replaced
  assert_called "docker run --detach"
  assert_called "docker rename payments-2"
}

@test "PULL_POLICY=missing pulls only an image the host does not have" {
  existing_container payments "$old_image"
  PULL_POLICY=missing run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  assert_call_order "docker image inspect $new_image" "docker pull --quiet $new_image"
  : >"$FAKE_STATE/calls"
  # now it is on the host (and running): no pull
  PULL_POLICY=missing run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  refute_called "docker pull"
  [[ "$output" == *"nothing to do"* ]]
  PULL_POLICY=sometimes run "$swap" "$new_image"
  [ "$status" -eq 2 ]
}

@test "--rollback swaps back to the kept previous image: no pull, no migrations; it toggles" {
  existing_container payments "$old_image"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  [ "$(container_image payments-previous)" = "$(image_id "$old_image")" ]
  : >"$FAKE_STATE/calls"
  run "$swap" --rollback
  [ "$status" -eq 0 ]
  refute_called "docker pull"
  refute_called "migrate"
  assert_call_order \
    "docker run --detach" \
    "docker exec payments-2" \
    "docker kill --signal USR2 payments" \
    "docker rm --force payments-previous" \
    "docker rename payments payments-previous" \
    "docker rename payments-2"
  [[ "$(grep -F 'docker run --detach' "$FAKE_STATE/calls")" == *" $(image_id "$old_image") serve" ]]
  [ "$(container_image payments)" = "$(image_id "$old_image")" ]
  [ "$(container_image payments-previous)" = "$(image_id "$new_image")" ]
  [ "$(container_names)" = "payments payments-previous" ]
}

@test "--rollback without a previous container exits 9 and changes nothing" {
  existing_container payments "$old_image"
  run "$swap" --rollback
  [ "$status" -eq 9 ]
  refute_called "docker run"
  refute_called "docker stop"
  run "$swap" --rollbak
  [ "$status" -eq 2 ]
}

@test "only this container's family is touched: another name on the same engine is left alone" {
  existing_container payments-a "$old_image"
  existing_container payments-b "$old_image"
  existing_container payments-b-20260101000000-42 "$old_image"
  PAYMENTS_CONTAINER=payments-a run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  refute_called "docker stop --time 40 payments-b"
  refute_called "docker kill --signal USR2 payments-b"
  [ "$(cat "$FAKE_STATE/containers/payments-b/running")" = "true" ]
  [ "$(cat "$FAKE_STATE/containers/payments-b-20260101000000-42/running")" = "true" ]
  [ "$(container_image payments-a)" = "$(image_id "$new_image")" ]
  [ "$(container_image payments-a-previous)" = "$(image_id "$old_image")" ]
}

@test "a kept previous container is never retired as an old one" {
  existing_container payments "$old_image"
  run "$swap" "$new_image"
  [ "$status" -eq 0 ]
  : >"$FAKE_STATE/calls"
  third="${new_image%:*}:1.4.0"
  run "$swap" "$third"
  [ "$status" -eq 0 ]
  refute_called "docker kill --signal USR2 payments-previous"
  assert_call_order "docker rm --force payments-previous" "docker rename payments payments-previous"
  [ "$(container_image payments-previous)" = "$(image_id "$new_image")" ]
}

@test "a new container Docker keeps restarting (a crash at start) is rolled back without waiting for the timeout" {
  existing_container payments "$old_image"
  start=$SECONDS
  FAKE_DOCKER_RESTARTS=2 READY_TIMEOUT_SECONDS=30 run "$swap" "$new_image"
  [ "$status" -eq 5 ]
  ((SECONDS - start < 10))
  [[ "$output" == *"stopped or restarted before it became ready"* ]]
  refute_called "docker kill"
  [ "$(container_image payments)" = "$(image_id "$old_image")" ]
}
