#!/usr/bin/env bats
# scripts/deploy-ec2 against a fake aws: the deploy lock, the target group by
# its tags, the image-tag parameter new instances read, hosts by tag, one at a
# time through the environment's swap document, each swap and a whole window
# of target health awaited before the next, stop at the first failure, put the
# parameter back and roll the hosts done back, and a final sweep for instances
# launched meanwhile. scripts/tests/deploy-ec2-moto.bats runs it against moto.

# shellcheck source-path=SCRIPTDIR source=lib/common.bash
source "$BATS_TEST_DIRNAME/lib/common.bash"

registry="123456789012.dkr.ecr.us-east-1.amazonaws.com"
image="$registry/payments/staging:1.3.0"
production_image="$registry/payments/production:1.3.0"

setup() {
  use_fakes
  deploy="$project_root/scripts/deploy-ec2"
  export POLL_INTERVAL_SECONDS=0 HEALTH_TIMEOUT_SECONDS=1 COMMAND_TIMEOUT_SECONDS=5 HEALTH_WINDOW_SECONDS=0
  export FAKE_AWS_INSTANCES="i-0bbb i-0aaa" FAKE_AWS_IMAGE_TAG=1.2.3
  unset PAYMENTS_TARGET_GROUP_ARN
}

# The value of the environment's image-tag parameter after the run.
image_tag_parameter() {
  local file="$FAKE_STATE/aws/parameter-_payments_$1_image-tag"
  if [[ -f "$file" ]]; then cat "$file"; else echo "$FAKE_AWS_IMAGE_TAG"; fi
}

@test "targets the environment's instances by tag" {
  run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  assert_called "aws ec2 describe-instances --filters Name=tag:Service,Values=payments Name=tag:Environment,Values=staging Name=instance-state-name,Values=running"
}

@test "records the tag in /payments/<environment>/image-tag before the first host, for new instances" {
  run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  assert_call_order \
    "aws ssm get-parameter --name /payments/staging/image-tag" \
    "aws ssm put-parameter --name /payments/staging/image-tag --value 1.3.0 --overwrite" \
    "aws ssm send-command --document-name payments-staging-swap --instance-ids i-0aaa"
  [ "$(image_tag_parameter staging)" = "1.3.0" ]
  [ "$(count_calls "put-parameter --name /payments/staging/image-tag")" -eq 1 ]
}

@test "an image named by tag and digest records both" {
  digest="sha256:$(printf 'a%.0s' {1..64})"
  run "$deploy" staging "$image@$digest"
  [ "$status" -eq 0 ]
  [ "$(image_tag_parameter staging)" = "1.3.0@$digest" ]
}

@test "a failed rollout puts the previous tag back" {
  FAKE_AWS_FAIL_INSTANCE=i-0bbb FAKE_AWS_FAIL_CODE=5 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  assert_call_order \
    "put-parameter --name /payments/staging/image-tag --value 1.3.0 --overwrite" \
    "send-command --document-name payments-staging-swap --instance-ids i-0bbb" \
    "put-parameter --name /payments/staging/image-tag --value 1.2.3 --overwrite"
  [ "$(image_tag_parameter staging)" = "1.2.3" ]
  [[ "$output" == *"set back to 1.2.3"* ]]
}

@test "a missing parameter stops the deploy before any host" {
  FAKE_AWS_NO_PARAMETER=1 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  refute_called "put-parameter --name /payments/staging/image-tag"
  refute_called "send-command"
  assert_called "delete-parameter --name /payments/staging/deploy-lock"
}

@test "one host at a time: swap, wait for the command, wait for target health, then the next" {
  run "$deploy" production "$production_image"
  [ "$status" -eq 0 ]
  assert_call_order \
    "aws ssm send-command --document-name payments-production-swap --instance-ids i-0aaa" \
    "aws ssm get-command-invocation --command-id command-i-0aaa --instance-id i-0aaa --query [Status,ResponseCode]" \
    "aws elbv2 describe-target-health --target-group-arn arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-production/abc --targets Id=i-0aaa" \
    "aws ssm send-command --document-name payments-production-swap --instance-ids i-0bbb" \
    "aws elbv2 describe-target-health --target-group-arn arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-production/abc --targets Id=i-0bbb"
  # polled until Success (not registered yet, InProgress, Success) and until healthy (draining, healthy)
  [ "$(count_calls "get-command-invocation --command-id command-i-0aaa --instance-id i-0aaa --query [Status,ResponseCode]")" -eq 3 ]
  [ "$(count_calls "describe-target-health --target-group-arn arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-production/abc --targets Id=i-0aaa")" -eq 2 ]
  [[ "$output" == *"production runs $production_image on all 2 hosts"* ]]
}

@test "the command is the environment's swap document with the image as its one parameter" {
  run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  assert_called "aws ssm send-command --document-name payments-staging-swap --instance-ids i-0aaa --comment payments staging: swap to staging:1.3.0 --timeout-seconds 600 --parameters ImageUri=$image --query Command.CommandId"
  refute_called "AWS-RunShellScript"
}

@test "a failed swap stops the rollout: the next host is never touched" {
  FAKE_AWS_FAIL_INSTANCE=i-0aaa FAKE_AWS_FAIL_CODE=5 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"never became ready"* ]]
  [ "$(image_tag_parameter staging)" = "1.2.3" ]
  [[ "$output" == *"payments-swap output on i-0aaa"* ]]
  refute_called "--instance-ids i-0bbb"
  # the failed host is sent the previous image too (a no-op when it kept it)
  assert_call_order "--instance-ids i-0aaa --comment payments staging: swap to staging:1.3.0" \
    "--instance-ids i-0aaa --comment payments staging: swap to staging:1.2.3"
}

@test "a failure on the second host rolls the first back to the previous image, after the parameter" {
  FAKE_AWS_FAIL_INSTANCE=i-0bbb FAKE_AWS_FAIL_CODE=3 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"could not be pulled"* ]]
  [[ "$output" == *"stopped after 1 of 2 hosts"* ]]
  assert_call_order \
    "send-command --document-name payments-staging-swap --instance-ids i-0aaa --comment payments staging: swap to staging:1.3.0 --timeout-seconds 600 --parameters ImageUri=$image " \
    "send-command --document-name payments-staging-swap --instance-ids i-0bbb --comment payments staging: swap to staging:1.3.0" \
    "put-parameter --name /payments/staging/image-tag --value 1.2.3 --overwrite" \
    "send-command --document-name payments-staging-swap --instance-ids i-0bbb --comment payments staging: swap to staging:1.2.3" \
    "send-command --document-name payments-staging-swap --instance-ids i-0aaa --comment payments staging: swap to staging:1.2.3 --timeout-seconds 600 --parameters ImageUri=$registry/payments/staging:1.2.3 " \
    "get-command-invocation --command-id command-i-0aaa-2 --instance-id i-0aaa"
  [[ "$output" == *"rolled back i-0aaa i-0bbb to 1.2.3"* ]]
  [ "$(image_tag_parameter staging)" = "1.2.3" ]
}

@test "a host the load balancer never sees healthy stops the rollout" {
  FAKE_AWS_UNHEALTHY_INSTANCE=i-0aaa run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"(last: 'unhealthy')"* ]]
  refute_called "--instance-ids i-0bbb"
}

@test "the target group can be given explicitly" {
  PAYMENTS_TARGET_GROUP_ARN=arn:tg/explicit run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  refute_called "describe-target-groups"
  assert_called "describe-target-health --target-group-arn arn:tg/explicit --targets Id=i-0aaa"
}

@test "no instances is a failure, not a silent success" {
  FAKE_AWS_INSTANCES="" run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"no running instance"* ]]
  refute_called "send-command"
}

@test "no target group is a failure" {
  FAKE_AWS_NO_TARGET_GROUP=1 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"no target group tagged Service=payments, Environment=staging"* ]]
  refute_called "send-command"
}

@test "the target group is found by its tags Service and Environment, not by its name" {
  FAKE_AWS_TARGET_GROUPS="web-stg-7f3a=staging payments-staging=production other-service=staging" run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  refute_called "--names"
  assert_called "describe-target-health --target-group-arn arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-stg-7f3a/abc --targets Id=i-0aaa"
}

@test "two target groups with the environment's tags are a failure, not a guess" {
  FAKE_AWS_TARGET_GROUPS="a=staging b=staging" run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"2 target groups are tagged"* ]]
  refute_called "send-command"
}

@test "deploy lock: a second deploy of the environment exits 3 and touches nothing" {
  mkdir -p "$FAKE_STATE/aws"
  echo "https://ci.example/build/41 pid 7 since 2026-12-02T10:00:00Z" >"$FAKE_STATE/aws/parameter-_payments_staging_deploy-lock"
  run "$deploy" staging "$image"
  [ "$status" -eq 3 ]
  [[ "$output" == *"another deploy of staging holds /payments/staging/deploy-lock: https://ci.example/build/41"* ]]
  [[ "$output" == *"aws ssm delete-parameter --name /payments/staging/deploy-lock"* ]]
  refute_called "send-command"
  refute_called "put-parameter --name /payments/staging/image-tag"
  refute_called "delete-parameter"
  # and the holder's lock is still there
  [ -f "$FAKE_STATE/aws/parameter-_payments_staging_deploy-lock" ]
}

@test "deploy lock: taken by a conditional put before anything else, released at the end, on failure too" {
  DEPLOY_LOCK_OWNER=pipeline-42 run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  assert_call_order \
    "aws ssm put-parameter --name /payments/staging/deploy-lock --type String --value pipeline-42 pid" \
    "describe-target-groups" \
    "put-parameter --name /payments/staging/image-tag" \
    "send-command" \
    "aws ssm delete-parameter --name /payments/staging/deploy-lock"
  refute_called "--name /payments/staging/deploy-lock --type String --value pipeline-42 pid $$ --overwrite"
  [ ! -f "$FAKE_STATE/aws/parameter-_payments_staging_deploy-lock" ]
  rm -rf "$FAKE_STATE/aws"
  FAKE_AWS_FAIL_INSTANCE=i-0aaa run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [ ! -f "$FAKE_STATE/aws/parameter-_payments_staging_deploy-lock" ]
}

@test "target health must hold after the swap: a 'healthy' left from the old process does not pass" {
  # The target group still says healthy at the first poll (its verdict on the
  # process before the swap), then sees the new one fail. Polling once, as
  # before, would have moved on to the next host.
  FAKE_AWS_STALE_HEALTHY_INSTANCE=i-0aaa HEALTH_WINDOW_SECONDS=1 POLL_INTERVAL_SECONDS=0.2 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"did not report it healthy for 1s in a row"* ]]
  refute_called "--instance-ids i-0bbb"
  [ "$(image_tag_parameter staging)" = "1.2.3" ]
}

@test "the health window defaults to the target group's interval x unhealthy threshold + timeout" {
  unset HEALTH_WINDOW_SECONDS
  FAKE_AWS_HEALTH_CHECK="0 3 1" HEALTH_TIMEOUT_SECONDS=10 POLL_INTERVAL_SECONDS=0.2 run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  [[ "$output" == *"healthy for 1s"* ]]
  assert_called "describe-target-groups --target-group-arns arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-staging/abc --query TargetGroups[0].[HealthCheckIntervalSeconds,UnhealthyThresholdCount,HealthCheckTimeoutSeconds]"
}

@test "an instance launched during the rollout is swapped by the final sweep" {
  FAKE_AWS_LAUNCHED=i-0ccc run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  assert_call_order \
    "put-parameter --name /payments/staging/image-tag --value 1.3.0" \
    "--instance-ids i-0aaa" \
    "--instance-ids i-0bbb" \
    "Name=instance-state-name,Values=pending,running" \
    "send-command --document-name payments-staging-swap --instance-ids i-0ccc"
  [[ "$output" == *"i-0ccc: launched during the rollout"* ]]
  [[ "$output" == *"runs $image on all 3 hosts"* ]]
}

@test "a failed migration is explained" {
  FAKE_AWS_FAIL_INSTANCE=i-0aaa FAKE_AWS_FAIL_CODE=8 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"the migrations failed"* ]]
}

@test "bad arguments exit 2 before any aws call" {
  run "$deploy" staging
  [ "$status" -eq 2 ]
  run "$deploy" staging "payments:1.0; rm -rf /"
  [ "$status" -eq 2 ]
  # no tag
  run "$deploy" staging "$registry/payments/staging"
  [ "$status" -eq 2 ]
  run "$deploy" staging "$registry/payments/staging@sha256:$(printf 'a%.0s' {1..64})"
  [ "$status" -eq 2 ]
  # another environment's repository, or the old shared one
  run "$deploy" production "$image"
  [ "$status" -eq 2 ]
  [[ "$output" == *"not in the ECR repository payments/production"* ]]
  run "$deploy" staging "$registry/payments:1.3.0"
  [ "$status" -eq 2 ]
  run "$deploy" staging "docker.io/library/payments/staging:1.3.0"
  [ "$status" -eq 2 ]
  run "$deploy" "Prod uction" "$image"
  [ "$status" -eq 2 ]
  [ ! -s "$FAKE_STATE/calls" ]
}
