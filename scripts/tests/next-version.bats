#!/usr/bin/env bats
# scripts/next-version on throwaway repositories: git-cliff decides the bump
# (feat -> minor, fix -> patch, breaking -> major), the script the suffix.

setup() {
  project_root="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
  next_version="$project_root/scripts/next-version"
  if [[ -z "${GIT_CLIFF:-}" ]] && ! command -v git-cliff >/dev/null; then
    export GIT_CLIFF="$project_root/.tools/bin/git-cliff"
  fi
  unset CIRCLE_BRANCH
  repo="$BATS_TEST_TMPDIR/repo"
  git init --quiet --initial-branch=master "$repo"
  git -C "$repo" config user.email ci@example.org
  git -C "$repo" config user.name CI
  git -C "$repo" config commit.gpgsign false
  git -C "$repo" config tag.gpgsign false
}

commit() {
  git -C "$repo" commit --quiet --allow-empty -m "$1"
}

version_on() {
  run "$next_version" --repository "$repo" --branch "$1"
}

@test "without a release tag the first version is 0.1.0" {
  commit "feat: first page"
  version_on master
  [ "$status" -eq 0 ]
  [ "$output" = "0.1.0" ]
}

@test "fix bumps the patch version" {
  commit "feat: payments list"
  git -C "$repo" tag v1.2.3
  commit "fix: round refunds down"
  version_on master
  [ "$status" -eq 0 ]
  [ "$output" = "1.2.4" ]
}

@test "feat bumps the minor version" {
  commit "feat: payments list"
  git -C "$repo" tag v1.2.3
  commit "fix: round refunds down"
  commit "feat(api): summary endpoint"
  version_on master
  [ "$status" -eq 0 ]
  [ "$output" = "1.3.0" ]
}

@test "a breaking change bumps the major version (bang)" {
  commit "feat: payments list"
  git -C "$repo" tag v1.2.3
  commit "feat(api)!: amounts in minor units"
  version_on master
  [ "$status" -eq 0 ]
  [ "$output" = "2.0.0" ]
}

@test "a breaking change bumps the major version (footer), also before 1.0" {
  commit "feat: payments list"
  git -C "$repo" tag v0.4.1
  commit $'refactor: drop the v0 routes\n\nBREAKING CHANGE: /api/v0 is gone'
  version_on master
  [ "$status" -eq 0 ]
  [ "$output" = "1.0.0" ]
}

@test "a commit that is not conventional still releases a patch" {
  commit "feat: payments list"
  git -C "$repo" tag v1.2.3
  commit "Update the README"
  version_on master
  [ "$status" -eq 0 ]
  [ "$output" = "1.2.4" ]
}

@test "staging gets a release candidate counting commits since the last release" {
  commit "feat: payments list"
  git -C "$repo" tag v1.2.3
  commit "fix: round refunds down"
  commit "feat: csv export"
  commit "docs: explain exports"
  version_on staging
  [ "$status" -eq 0 ]
  [ "$output" = "1.3.0-rc.3" ]
}

@test "release candidates grow with each commit and ignore rc tags" {
  commit "feat: payments list"
  git -C "$repo" tag v1.2.3
  commit "fix: round refunds down"
  version_on staging
  [ "$output" = "1.2.4-rc.1" ]
  git -C "$repo" tag v1.2.4-rc.1
  commit "fix: another one"
  version_on staging
  [ "$status" -eq 0 ]
  [ "$output" = "1.2.4-rc.2" ]
  version_on master
  [ "$output" = "1.2.4" ]
}

@test "other branches get a dev pre-release" {
  commit "feat: payments list"
  git -C "$repo" tag v1.2.3
  commit "feat: dashboard"
  version_on feature/dashboard
  [ "$status" -eq 0 ]
  [ "$output" = "1.3.0-dev.1" ]
}

@test "the branch comes from CIRCLE_BRANCH when not given" {
  commit "feat: payments list"
  git -C "$repo" tag v1.2.3
  commit "fix: typo"
  CIRCLE_BRANCH=staging run "$next_version" --repository "$repo"
  [ "$status" -eq 0 ]
  [ "$output" = "1.2.4-rc.1" ]
}

@test "a commit that already has its release tag keeps its version" {
  commit "feat: payments list"
  git -C "$repo" tag v1.2.3
  commit "feat: dashboard"
  git -C "$repo" tag v1.3.0
  version_on master
  [ "$status" -eq 0 ]
  [ "$output" = "1.3.0" ]
}

@test "a shallow clone is refused" {
  commit "feat: payments list"
  commit "fix: typo"
  git clone --quiet --depth 1 "file://$repo" "$BATS_TEST_TMPDIR/shallow"
  run "$next_version" --repository "$BATS_TEST_TMPDIR/shallow" --branch master
  [ "$status" -eq 1 ]
  [[ "$output" == *"shallow clone"* ]]
}

@test "a missing git-cliff is an error, not a guess" {
  commit "feat: payments list"
  GIT_CLIFF="$BATS_TEST_TMPDIR/no-such-git-cliff" run "$next_version" --repository "$repo" --branch master
  [ "$status" -ne 0 ]
}
