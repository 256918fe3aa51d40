#!/usr/bin/env bats
# scripts/push-image against fake docker and aws: two tags per image, and an
# existing (immutable) tag is reused for the same commit, refused otherwise.

# shellcheck source-path=SCRIPTDIR source=lib/common.bash
source "$BATS_TEST_DIRNAME/lib/common.bash"

repository="123456789012.dkr.ecr.us-east-1.amazonaws.com/payments/staging"
sha="0123456789abcdef0123456789abcdef01234567"

setup() {
  use_fakes
  push="$project_root/scripts/push-image"
  export CIRCLE_SHA1="$sha"
}

@test "pushes the version tag, then the commit sha tag, and prints the URI to deploy" {
  run "$push" "$repository" 1.3.0 "$BATS_TEST_TMPDIR/image.tar"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "$repository:1.3.0" ]
  assert_called "aws ecr get-login-password --region us-east-1"
  assert_call_order \
    "aws ecr describe-images --region us-east-1 --repository-name payments/staging --image-ids imageTag=1.3.0" \
    "docker load --quiet --input $BATS_TEST_TMPDIR/image.tar" \
    "docker login --username AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com" \
    "docker tag payments:1.3.0 $repository:1.3.0" \
    "docker push --quiet $repository:1.3.0" \
    "docker tag payments:1.3.0 $repository:$sha" \
    "docker push --quiet $repository:$sha"
}

@test "a re-run for the same commit reuses the published image" {
  FAKE_AWS_ECR_TAGS="1.3.0 $sha" run "$push" "$repository" 1.3.0
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "$repository:1.3.0" ]
  refute_called "docker push"
}

@test "a version already published by another commit is refused" {
  FAKE_AWS_ECR_TAGS="1.3.0 fedcba9876543210fedcba9876543210fedcba98" run "$push" "$repository" 1.3.0
  [ "$status" -eq 1 ]
  [[ "$output" == *"immutable"* ]]
  refute_called "docker push"
}

@test "a commit already published under another version keeps its sha tag" {
  FAKE_AWS_ECR_TAGS="1.3.0-rc.2 $sha" run "$push" "$repository" 1.3.0
  [ "$status" -eq 0 ]
  assert_called "docker push --quiet $repository:1.3.0"
  refute_called "docker push --quiet $repository:$sha"
}

@test "a failed push fails the script" {
  FAKE_DOCKER_PUSH_FAIL=1 run "$push" "$repository" 1.3.0
  [ "$status" -ne 0 ]
}

@test "bad arguments exit 2" {
  run "$push" "docker.io/library/payments" 1.3.0
  [ "$status" -eq 2 ]
  run "$push" "$repository" latest
  [ "$status" -eq 2 ]
  [ ! -s "$FAKE_STATE/calls" ]
}
