# shellcheck shell=bash
# Helpers shared by the scripts that run the payments service on this machine
# against the local MariaDB and measure it: bench/run, bench/profile,
# scripts/rehearse-db-outage and scripts/rehearse-deploy. Source it; it only
# defines functions and settings and does nothing by itself.
#
# Before sourcing, set `program` (the name every message starts with) and,
# when die should not exit 1, `die_status`. Functions that build or run the
# binary use and set the global `payments_bin` (from PAYMENTS_BIN when set).
#
# A script that also sources scripts/lib/engine.sh sources this file after
# it: this die then replaces engine.sh's and accepts its calling convention
# (the program name first), so engine.sh's require_* helpers still work.

# The repository root (the parent of scripts/).
service_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly service_repo_root
# The local MariaDB of scripts/start-mariadb: root, no password, over TCP.
readonly db_host=127.0.0.1 db_port=3306
readonly mariadbd=/usr/sbin/mariadbd

# --- messages and time ----------------------------------------------------------

# log MESSAGE...: "HH:MM:SS PROGRAM: MESSAGE" on stderr.
log() {
  printf '%s %s: %s\n' "$(date -u +%H:%M:%S)" "${program:?set program before sourcing service.sh}" "$*" >&2
}

# die [PROGRAM] MESSAGE...: logs the error and exits ${die_status:-1}.
die() {
  if (($# > 1)) && [[ "$1" == "$program" ]]; then
    shift
  fi
  log "error: $*"
  exit "${die_status:-1}"
}

# Unix time in seconds with nanoseconds (what bench/load.py logs), and in
# whole nanoseconds (for durations in shell arithmetic).
now() {
  date +%s.%N
}

now_ns() {
  date +%s%N
}

# seconds_between FROM TO [DECIMALS]: TO - FROM (Unix seconds), rounded.
seconds_between() {
  awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { printf "%.*f", d, b - a }'
}

# --- settings and tools ---------------------------------------------------------

# require_positive_integers VALUE...: each is a whole number above zero.
require_positive_integers() {
  local value
  for value in "$@"; do
    [[ "$value" =~ ^[0-9]+$ && "$value" -gt 0 ]] || die "'$value' is not a positive whole number (check the settings)"
  done
}

# require_commands COMMAND...: each is on PATH.
require_commands() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
  done
}

# install_from_apt COMMAND [PACKAGE]: installs PACKAGE (default: COMMAND)
# from apt when COMMAND is missing.
install_from_apt() {
  local command="$1" package="${2:-$1}"
  command -v "$command" >/dev/null 2>&1 && return 0
  log "installing $package (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  }
  command -v "$command" >/dev/null 2>&1 || die "$package did not install $command"
}

# build_binary: sets payments_bin to PAYMENTS_BIN or to what
# scripts/build-release builds.
build_binary() {
  payments_bin="${payments_bin:-${PAYMENTS_BIN:-}}"
  if [[ -z "$payments_bin" ]]; then
    log "building the release binary (scripts/build-release)"
    payments_bin="$("$service_repo_root/scripts/build-release")"
  fi
  [[ -x "$payments_bin" ]] || die "$payments_bin is not an executable"
}

# --- MariaDB --------------------------------------------------------------------

# sql STATEMENTS: runs them as root, tab-separated output without headers.
sql() {
  mariadb --host="$db_host" --port="$db_port" --user=root --batch --skip-column-names -e "$1"
}

database_url() {
  echo "mysql://root@$db_host:$db_port/$1"
}

# Makes sure MariaDB answers (installing and starting it when needed).
ensure_mariadb() {
  "$service_repo_root/scripts/start-mariadb" >/dev/null
}

# create_database NAME: a fresh, empty utf8mb4 database.
create_database() {
  sql "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
}

# drop_databases NAME...: never fails (clean-up).
drop_databases() {
  local name
  for name in "$@"; do
    sql "DROP DATABASE IF EXISTS \`$name\`" 2>/dev/null || true
  done
}

mariadb_answers() {
  mariadb-admin --host="$db_host" --port="$db_port" --user=root --connect-timeout=1 ping >/dev/null 2>&1
}

# The pid of the running mariadbd.
mariadb_pid() {
  cat "$(sql 'SELECT @@pid_file')"
}

# Starts mariadbd in the background as scripts/start-mariadb does (it refuses
# to run as root unless told which user to drop to); returns at once.
start_mariadb_server() {
  install -d -o mysql -g mysql /run/mysqld
  start-stop-daemon --start --oknodo --background --exec "$mariadbd" -- --user=mysql
}

# count_missing_payments FILE DATABASE: how many of the payment ids in FILE
# (one per line) are not in DATABASE's payments table.
count_missing_payments() {
  local file="$1" schema="$2" ids=() found=0 i list
  mapfile -t ids <"$file"
  for ((i = 0; i < ${#ids[@]}; i += 500)); do
    list="$(printf "'%s'," "${ids[@]:i:500}")"
    [[ "$list" =~ ^(\'[A-Za-z0-9_]+\',)+$ ]] || die "unexpected payment ids in $file"
    found=$((found + $(sql "SELECT COUNT(*) FROM \`$schema\`.payments WHERE id IN (${list%,})")))
  done
  echo $((${#ids[@]} - found))
}

# --- the service ----------------------------------------------------------------

# create_token URL NAME SCOPE: prints the new token's secret (alone on the
# last line of the command's output).
create_token() {
  "$payments_bin" token create --name "$2" --scope "$3" --database-url "$1" | tail -n 1
}

# serve_in_background LOG PORT URL [ARGS...]: starts `payments serve` on
# 127.0.0.1:PORT as production runs it (JSON logs at info), its output in
# LOG, and sets server_pid. Returns once it is ready.
serve_in_background() {
  local log_file="$1" port="$2" url="$3"
  shift 3
  "$payments_bin" serve --bind "127.0.0.1:$port" --database-url "$url" \
    --log-format json --shutdown-grace 5s "$@" >"$log_file" 2>&1 &
  server_pid=$!
  wait_until_ready "$port" "$server_pid" "$log_file"
}

# wait_until_ready PORT PID LOG [SECONDS]: until /readyz on PORT answers 200;
# dies (with the end of LOG) when PID exits first or SECONDS (30) pass.
wait_until_ready() {
  local port="$1" pid="$2" log_file="$3" seconds="${4:-30}"
  local deadline=$((SECONDS + seconds))
  until "$payments_bin" healthcheck --url "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log_file" >&2
      die "the server exited before it was ready"
    fi
    ((SECONDS < deadline)) || die "the server was not ready within ${seconds}s"
    sleep 0.1
  done
}

# stop_processes PID...: SIGTERM, up to 20 s to exit, then SIGKILL; reaps
# each. Empty arguments are skipped.
stop_processes() {
  local pid deadline
  for pid in "$@"; do
    [[ -n "$pid" ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# CPU time (user + system) a process has used so far, in clock ticks.
process_cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# --- load and its figures -------------------------------------------------------

# json_field FIELD: the field of the JSON object on stdin ("-" when absent;
# objects and lists as JSON).
json_field() {
  python3 -c 'import json, sys; v = json.load(sys.stdin).get(sys.argv[1]); print("-" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))' "$1"
}

# load_figures LOG [ARGS...]: bench/load.py's summary of a request log (JSON).
load_figures() {
  local log_file="$1"
  shift
  python3 "$service_repo_root/bench/load.py" summarize --log "$log_file" "$@"
}

# --- the machine ----------------------------------------------------------------

# Percent of CPU time busy over two seconds, all cores.
cpu_busy_percent() {
  local before after
  before="$(head -n 1 /proc/stat)"
  sleep 2
  after="$(head -n 1 /proc/stat)"
  awk -v a="$before" -v b="$after" 'BEGIN {
    n = split(a, x); split(b, y); total = 0
    for (i = 2; i <= n; i++) total += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6])
    printf "%d", total ? 100 * (total - idle) / total : 0
  }'
}

# wait_for_quiet_machine SECONDS: other work (a build, a test run) skews every
# figure, so waits at most SECONDS until the CPUs are at most 15% busy.
# Prints the last reading either way.
wait_for_quiet_machine() {
  local busy deadline=$((SECONDS + $1))
  busy="$(cpu_busy_percent)"
  while ((busy > 15 && SECONDS < deadline)); do
    log "the CPUs are ${busy}% busy with other work; waiting for them to be quiet"
    sleep 10
    busy="$(cpu_busy_percent)"
  done
  ((busy <= 15)) || log "warning: starting with the CPUs ${busy}% busy; the figures will be low"
  echo "$busy"
}

# --- clean-up -------------------------------------------------------------------

# finish_scratch DIRECTORY STATUS KEEP: removes the scratch directory, unless
# the run failed (STATUS not 0) or KEEP is not empty: then says where it is.
finish_scratch() {
  local directory="$1" status="$2" keep="$3"
  [[ -n "$directory" && -d "$directory" ]] || return 0
  if ((status != 0)) || [[ -n "$keep" ]]; then
    log "logs kept in $directory"
  else
    rm -rf "$directory"
  fi
}
