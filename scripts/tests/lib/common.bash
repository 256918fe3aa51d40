# shellcheck shell=bash
# Shared functions for the bats tests: fakes first on PATH, a state directory per
# test, and assertions about the recorded calls.

export project_root
project_root="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"

use_fakes() {
  export FAKE_STATE="$BATS_TEST_TMPDIR/fake"
  export FAKE_DOCKER_STATE="$FAKE_STATE"
  export FAKE_AWS_STATE="$FAKE_STATE"
  mkdir -p "$FAKE_STATE"
  : >"$FAKE_STATE/calls"
  export PATH="$BATS_TEST_DIRNAME/fakes:$PATH"
}

calls() {
  cat "$FAKE_STATE/calls"
}

# Line number of the first recorded call containing the fixed string $1
# (fails when there is none).
call_line() {
  local line
  line="$(grep -n -m 1 -F -- "$1" "$FAKE_STATE/calls" | cut -d: -f1)"
  if [[ -z "$line" ]]; then
    echo "no call contains: $1" >&2
    calls >&2
    return 1
  fi
  echo "$line"
}

assert_called() {
  call_line "$1" >/dev/null
}

refute_called() {
  if grep -q -F -- "$1" "$FAKE_STATE/calls"; then
    echo "unexpected call containing: $1" >&2
    calls >&2
    return 1
  fi
}

# The calls containing $1, $2, ... happened in this order.
assert_call_order() {
  local previous=0 current fragment
  for fragment in "$@"; do
    current="$(call_line "$fragment")" || return 1
    if ((current <= previous)); then
      echo "call '$fragment' (line $current) is not after line $previous" >&2
      calls >&2
      return 1
    fi
    previous="$current"
  done
}

count_calls() {
  grep -c -F -- "$1" "$FAKE_STATE/calls" || true
}

# No recorded call is exactly $1.
refute_call_exactly() {
  if grep -q -x -F -- "$1" "$FAKE_STATE/calls"; then
    echo "unexpected call: $1" >&2
    calls >&2
    return 1
  fi
}
