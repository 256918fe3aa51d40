#!/usr/bin/env bats
# scripts/deploy-ec2 against a fake aws: the image-tag parameter new instances
# read, hosts by tag, one at a time, each swap and target health awaited before
# the next, stop at the first failure and put the parameter back.

# shellcheck source-path=SCRIPTDIR source=lib/common.bash
source "$BATS_TEST_DIRNAME/lib/common.bash"

registry="123456789012.dkr.ecr.us-east-1.amazonaws.com"
image="$registry/payments/staging:1.3.0"
production_image="$registry/payments/production:1.3.0"

setup() {
  use_fakes
  deploy="$project_root/scripts/deploy-ec2"
  export POLL_INTERVAL_SECONDS=0 HEALTH_TIMEOUT_SECONDS=1 COMMAND_TIMEOUT_SECONDS=5
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
    "aws ssm send-command --document-name AWS-RunShellScript --instance-ids i-0aaa"
  [ "$(image_tag_parameter staging)" = "1.3.0" ]
  [ "$(count_calls "put-parameter")" -eq 1 ]
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
    "send-command --document-name AWS-RunShellScript --instance-ids i-0bbb" \
    "put-parameter --name /payments/staging/image-tag --value 1.2.3 --overwrite"
  [ "$(image_tag_parameter staging)" = "1.2.3" ]
  [[ "$output" == *"set back to 1.2.3"* ]]
}

@test "a missing parameter stops the deploy before any host" {
  FAKE_AWS_NO_PARAMETER=1 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  refute_called "put-parameter"
  refute_called "send-command"
}

@test "one host at a time: swap, wait for the command, wait for target health, then the next" {
  run "$deploy" production "$production_image"
  [ "$status" -eq 0 ]
  assert_call_order \
    "aws ssm send-command --document-name AWS-RunShellScript --instance-ids i-0aaa" \
    "aws ssm get-command-invocation --command-id command-i-0aaa --instance-id i-0aaa --query [Status,ResponseCode]" \
    "aws elbv2 describe-target-health --target-group-arn arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-production/abc --targets Id=i-0aaa" \
    "aws ssm send-command --document-name AWS-RunShellScript --instance-ids i-0bbb" \
    "aws elbv2 describe-target-health --target-group-arn arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-production/abc --targets Id=i-0bbb"
  # polled until Success (not registered yet, InProgress, Success) and until healthy (draining, healthy)
  [ "$(count_calls "get-command-invocation --command-id command-i-0aaa --instance-id i-0aaa --query [Status,ResponseCode]")" -eq 3 ]
  [ "$(count_calls "describe-target-health --target-group-arn arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/payments-production/abc --targets Id=i-0aaa")" -eq 2 ]
  [[ "$output" == *"production runs $production_image on all 2 hosts"* ]]
}

@test "the command runs payments-swap with the image" {
  run "$deploy" staging "$image"
  [ "$status" -eq 0 ]
  assert_called "--parameters {\"commands\":[\"/usr/local/bin/payments-swap $image\"],\"executionTimeout\":[\"5\"]}"
}

@test "a failed swap stops the rollout: the next host is never touched" {
  FAKE_AWS_FAIL_INSTANCE=i-0aaa FAKE_AWS_FAIL_CODE=5 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"never became ready"* ]]
  [ "$(image_tag_parameter staging)" = "1.2.3" ]
  [[ "$output" == *"payments-swap output on i-0aaa"* ]]
  refute_called "--instance-ids i-0bbb"
  refute_called "describe-target-health"
}

@test "a failure on the second host is reported after the first succeeded" {
  FAKE_AWS_FAIL_INSTANCE=i-0bbb FAKE_AWS_FAIL_CODE=3 run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"could not be pulled"* ]]
  [[ "$output" == *"stopped after 1 of 2 hosts"* ]]
}

@test "a host the load balancer never sees healthy stops the rollout" {
  FAKE_AWS_UNHEALTHY_INSTANCE=i-0aaa run "$deploy" staging "$image"
  [ "$status" -eq 1 ]
  [[ "$output" == *"still reports 'unhealthy'"* ]]
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
  refute_called "send-command"
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
