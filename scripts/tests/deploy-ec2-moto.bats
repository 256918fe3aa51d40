#!/usr/bin/env bats
# scripts/deploy-ec2 end to end against moto (a local server standing in for
# SSM, EC2, ELBv2 and the parameter store; AWS_ENDPOINT_URL points the aws
# command line to it): the deploy lock as a conditional put, the target group
# found by its tags, the environment's swap document, the image-tag parameter,
# the rollback of the hosts already swapped, the health window after a swap,
# and the final sweep for an instance launched during the rollout.
#
# moto runs every command at once and reports it Success, and reports a
# registered running instance healthy; a thin `aws` in front of the real one
# (fakes/aws-moto-hooks) plays what only real hosts do: a swap that fails on a
# host, a target that turns unhealthy after its swap, an instance the Auto
# Scaling group launches while the rollout runs. Every other answer is moto's.
#
# Needs moto[server] and the aws command line in MOTO_VENV (default
# .tools/moto, which scripts/check-deploy installs); without them it fails.

# shellcheck source-path=SCRIPTDIR source=lib/common.bash
source "$BATS_TEST_DIRNAME/lib/common.bash"

registry="123456789012.dkr.ecr.us-east-1.amazonaws.com"
image="$registry/payments/staging:1.3.0"

setup_file() {
  local venv="${MOTO_VENV:-$project_root/.tools/moto}" port
  [[ -x "$venv/bin/moto_server" && -x "$venv/bin/aws" ]] \
    || { echo "moto[server] and awscli are not installed in $venv (scripts/check-deploy installs them)" >&3; return 1; }
  port=$((20000 + RANDOM % 20000))
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$BATS_FILE_TMPDIR/moto.log" 2>&1 3>&- &
  echo "$!" >"$BATS_FILE_TMPDIR/moto.pid"
  export MOTO_ENDPOINT="http://127.0.0.1:$port" REAL_AWS="$venv/bin/aws"
  local deadline=$((SECONDS + 30))
  until curl --silent --fail --max-time 2 "$MOTO_ENDPOINT/moto-api/data.json" >/dev/null; do
    ((SECONDS < deadline)) || { echo "moto did not answer on $MOTO_ENDPOINT" >&3; return 1; }
    sleep 0.2
  done
}

teardown_file() {
  if [[ -f "$BATS_FILE_TMPDIR/moto.pid" ]]; then
    kill "$(cat "$BATS_FILE_TMPDIR/moto.pid")" 2>/dev/null || true
  fi
}

setup() {
  export AWS_ENDPOINT_URL="$MOTO_ENDPOINT" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
  export POLL_INTERVAL_SECONDS=0.2 HEALTH_TIMEOUT_SECONDS=3 COMMAND_TIMEOUT_SECONDS=5 HEALTH_WINDOW_SECONDS=0
  unset PAYMENTS_TARGET_GROUP_ARN
  curl --silent --fail -X POST "$MOTO_ENDPOINT/moto-api/reset" >/dev/null
  export HOOK_STATE="$BATS_TEST_TMPDIR/hooks"
  mkdir -p "$HOOK_STATE" "$BATS_TEST_TMPDIR/bin"
  ln -s "$BATS_TEST_DIRNAME/fakes/aws-moto-hooks" "$BATS_TEST_TMPDIR/bin/aws"
  export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
  deploy="$project_root/scripts/deploy-ec2"
  create_environment
}

real_aws() {
  "$REAL_AWS" "$@"
}

# What Terraform creates (infrastructure/modules/web, stack): a target group
# whose name is not payments-<environment> but carries the tags, another
# environment's, two tagged instances registered with it, the image-tag
# parameter and the swap document.
create_environment() {
  local vpc ami production_group
  vpc="$(real_aws ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)"
  target_group="$(real_aws elbv2 create-target-group --name web-stg-20261202 --protocol HTTP --port 8080 \
    --vpc-id "$vpc" --health-check-path /readyz \
    --tags Key=Service,Value=payments Key=Environment,Value=staging \
    --query 'TargetGroups[0].TargetGroupArn' --output text)"
  production_group="$(real_aws elbv2 create-target-group --name payments-staging --protocol HTTP --port 8080 \
    --vpc-id "$vpc" --tags Key=Service,Value=payments Key=Environment,Value=production \
    --query 'TargetGroups[0].TargetGroupArn' --output text)"
  [[ -n "$production_group" ]]
  ami="$(real_aws ec2 describe-images --query 'Images[0].ImageId' --output text)"
  echo "$ami" >"$HOOK_STATE/ami"
  read -r -a instances <<<"$(real_aws ec2 run-instances --image-id "$ami" --count 2 --instance-type t3.micro \
    --tag-specifications 'ResourceType=instance,Tags=[{Key=Service,Value=payments},{Key=Environment,Value=staging}]' \
    --query 'Instances[].InstanceId' --output text | tr '\t' ' ')"
  mapfile -t instances < <(printf '%s\n' "${instances[@]}" | sort)
  real_aws elbv2 register-targets --target-group-arn "$target_group" \
    --targets "Id=${instances[0]}" "Id=${instances[1]}"
  real_aws ssm put-parameter --name /payments/staging/image-tag --type String --value 1.2.3 >/dev/null
  real_aws ssm create-document --name payments-staging-swap --document-type Command \
    --content '{"schemaVersion":"2.2","description":"payments-swap","parameters":{"ImageUri":{"type":"String"}},"mainSteps":[{"action":"aws:runShellScript","name":"swap","inputs":{"runCommand":["/usr/local/bin/payments-swap {{ ImageUri }}"]}}]}' \
    >/dev/null
  echo "$target_group" >"$HOOK_STATE/target-group"
}

parameter() {
  real_aws ssm get-parameter --name "$1" --query Parameter.Value --output text 2>/dev/null
}

# The swaps sent, in order: "<instance> <ImageUri>" per line.
swaps_sent() {
  cat "$HOOK_STATE/swaps" 2>/dev/null || true
}

@test "moto: lock, target group by tags, the swap document, one host after the other, lock released" {
  run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  [ "$(parameter /payments/staging/image-tag)" = "1.3.0" ]
  [ "$(swaps_sent)" = "$(printf '%s %s\n' "${instances[0]}" "$image" "${instances[1]}" "$image")" ]
  # moto recorded the document and its parameter for each command
  [ "$(real_aws ssm list-commands --query 'Commands[].DocumentName' --output text | tr '\t' '\n' | sort -u)" = "payments-staging-swap" ]
  [ "$(real_aws ssm list-commands --query 'Commands[].Parameters.ImageUri[0]' --output text | tr '\t' '\n' | sort -u)" = "$image" ]
  [[ "$output" == *"took the deploy lock /payments/staging/deploy-lock"* ]]
  [[ "$output" == *"released the deploy lock"* ]]
  run parameter /payments/staging/deploy-lock
  [ "$status" -ne 0 ]
  grep -qF "describe-target-health --target-group-arn $target_group " "$HOOK_STATE/calls"
}

@test "moto: a deploy while another holds the lock exits 3 and sends nothing" {
  real_aws ssm put-parameter --name /payments/staging/deploy-lock --type String --value "pipeline 41" >/dev/null
  run "$deploy" staging "$image"
  [ "$status" -eq 3 ]
  [[ "$output" == *"holds /payments/staging/deploy-lock: pipeline 41"* ]]
  [ -z "$(swaps_sent)" ]
  [ "$(parameter /payments/staging/image-tag)" = "1.2.3" ]
  [ "$(parameter /payments/staging/deploy-lock)" = "pipeline 41" ]
}

@test "moto: two deploys at once: exactly one runs, the other exits 3" {
  "$deploy" staging "$image" >"$BATS_TEST_TMPDIR/first.log" 2>&1 &
  local first=$!
  "$deploy" staging "$registry/payments/staging:1.4.0" >"$BATS_TEST_TMPDIR/second.log" 2>&1 &
  local second=$! first_status=0 second_status=0
  wait "$first" || first_status=$?
  wait "$second" || second_status=$?
  echo "first $first_status second $second_status"
  [[ "$first_status:$second_status" == "0:3" || "$first_status:$second_status" == "3:0" ]]
  # the hosts got one image only, never a mix of the two
  [ "$(swaps_sent | awk '{ print $2 }' | sort -u | wc -l)" -eq 1 ]
}

@test "moto: a later host fails: the parameter goes back, then the host done is rolled back" {
  echo "${instances[1]}" >"$HOOK_STATE/fail-instance"
  run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"stopped after 1 of 2 hosts"* ]]
  [ "$(parameter /payments/staging/image-tag)" = "1.2.3" ]
  [ "$(swaps_sent)" = "$(printf '%s %s\n' \
    "${instances[0]}" "$image" \
    "${instances[1]}" "$image" \
    "${instances[1]}" "$registry/payments/staging:1.2.3" \
    "${instances[0]}" "$registry/payments/staging:1.2.3")" ]
  run parameter /payments/staging/deploy-lock
  [ "$status" -ne 0 ]
}

@test "moto: a target healthy only before its swap does not pass; the rollout stops and rolls back" {
  # moto reports the instance healthy; the hook stops it after the first
  # health poll (the new process fails the load balancer's checks) and moto
  # then reports it unused. One poll, as before, would have passed.
  echo "${instances[0]}" >"$HOOK_STATE/stop-after-first-health"
  HEALTH_WINDOW_SECONDS=5 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"did not report it healthy for 5s in a row"* ]]
  [ "$(swaps_sent | grep -c " $image$")" -eq 1 ]
  [ "$(parameter /payments/staging/image-tag)" = "1.2.3" ]
}

@test "moto: an instance launched during the rollout ends on the new version" {
  touch "$HOOK_STATE/launch-on-first-swap"
  run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  launched="$(cat "$HOOK_STATE/launched")"
  [[ "$output" == *"$launched: launched during the rollout"* ]]
  [ "$(swaps_sent | tail -n 1)" = "$launched $image" ]
  [ "$(swaps_sent | wc -l)" -eq 3 ]
  [ "$(parameter /payments/staging/image-tag)" = "1.3.0" ]
  [[ "$output" == *"runs $image on all 3 hosts"* ]]
}
