# shellcheck shell=bash
# bench/run's measurements: wrk runs and what is sampled beside them (the
# server's memory, the CPU time the server and MariaDB spend per request).
# Sourced by bench/run after scripts/lib/service.sh; it uses bench/run's
# globals (scratch, server_pid, mariadb_server_pid, active_port, the row_*
# tables, row_suffix, name_suffix, threads, connections, duration, run_id).
# shellcheck disable=SC2154,SC2034,SC2004 # globals (associative arrays among them) declared by bench/run

# Clock ticks per second of /proc/<pid>/stat's utime and stime.
clock_ticks="$(getconf CLK_TCK)"
readonly clock_ticks

# A wrk latency ("812.00us", "3.01ms", "1.20s", "1.00m") in milliseconds.
latency_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; unit = v; sub(/^[0-9.]+/, "", unit)
    if (unit == "us") n /= 1000; else if (unit == "s") n *= 1000; else if (unit == "m") n *= 60000
    printf "%.2f", n
  }'
}

# VmRSS (current) or VmHWM (peak since start) of a process, in KiB.
memory_kib() {
  awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"
}

kib_as_mib() {
  awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

# Samples VmRSS four times a second for at most SECONDS and keeps the
# largest value in FILE; runs in the background beside wrk.
sample_peak_memory() {
  local pid="$1" seconds="$2" file="$3" peak=0 kib i
  for ((i = 0; i < seconds * 4; i++)); do
    kib="$(memory_kib "$pid" VmRSS 2>/dev/null)" || break
    if ((kib > peak)); then
      peak=$kib
      echo "$peak" >"$file"
    fi
    sleep 0.25
  done
}

# "SERVER_TICKS MARIADB_TICKS": CPU time used so far by the server and by
# mariadbd (which also serves whatever else uses this MariaDB).
cpu_ticks_now() {
  echo "$(process_cpu_ticks "$server_pid") $(process_cpu_ticks "$mariadb_server_pid")"
}

# microseconds_per TICKS COUNT: CPU ticks spent on COUNT things, in µs each.
microseconds_per() {
  awk -v t="$1" -v n="$2" -v hz="$clock_ticks" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n; else print "-" }'
}

# Runs wrk and records a row. Options: --id ID --name TEXT --path PATH
# [--connections N] [--script FILE] [--header "Name: value"] (default header:
# the read token; pass a Cookie header for dashboard pages). The row's id and
# name get row_suffix and name_suffix (set for the runs at other scales).
measure_with_wrk() {
  local id="" name="" path="" conns="$connections" script="" header="Authorization: Bearer $read_token"
  while (($#)); do
    case "$1" in
      --id) id="$2" ;;
      --name) name="$2" ;;
      --path) path="$2" ;;
      --connections) conns="$2" ;;
      --script) script="$2" ;;
      --header) header="$2" ;;
      *) die "measure_with_wrk: unknown option $1" ;;
    esac
    shift 2
  done
  id+="$row_suffix"
  name+="$name_suffix"
  local output="$scratch/wrk-$id.txt" peak_file="$scratch/rss-$id" sampler ticks_before ticks_after
  # wrk needs at least one connection per thread.
  local wrk_threads=$((threads < conns ? threads : conns))
  local args=(--latency --threads "$wrk_threads" --connections "$conns" --duration "${duration}s" --header "$header")
  [[ -n "$script" ]] && args+=(--script "$script")
  log "scenario $id: $conns connections, ${duration}s"
  echo 0 >"$peak_file"
  sample_peak_memory "$server_pid" "$((duration + 3))" "$peak_file" &
  sampler=$!
  ticks_before="$(cpu_ticks_now)"
  BENCH_RUN_ID="$run_id" timeout "$((duration + 30))" wrk "${args[@]}" "http://127.0.0.1:$active_port$path" >"$output" \
    || { cat "$output" >&2; die "wrk failed in scenario $id"; }
  ticks_after="$(cpu_ticks_now)"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  record_wrk_row "$id" "$name" "$conns" "$output" "$(cat "$peak_file")" "$ticks_before" "$ticks_after"
}

# record_wrk_row ID NAME CONNECTIONS WRK_OUTPUT PEAK_KIB TICKS_BEFORE TICKS_AFTER
record_wrk_row() {
  local id="$1" name="$2" conns="$3" output="$4" peak_kib="$5" non_2xx socket_errors requests
  local server_before db_before server_after db_after
  read -r server_before db_before <<<"$6"
  read -r server_after db_after <<<"$7"
  non_2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$output")"
  socket_errors="$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$output")"
  requests="$(awk '/ requests in / { print $1; exit }' "$output")"
  row_ids+=("$id")
  row_name[$id]="$name"
  row_connections[$id]="$conns"
  row_requests[$id]="${requests:-0}"
  row_rps[$id]="$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$output")"
  row_p50[$id]="$(latency_ms "$(awk '$1 == "50%" { print $2 }' "$output")")"
  row_p99[$id]="$(latency_ms "$(awk '$1 == "99%" { print $2 }' "$output")")"
  row_rss[$id]="$(kib_as_mib "$peak_kib")"
  row_failed[$id]=$((${non_2xx:-0} + ${socket_errors:-0}))
  row_cpu[$id]="$(microseconds_per $((server_after - server_before)) "${requests:-0}")"
  row_db_cpu[$id]="$(microseconds_per $((db_after - db_before)) "${requests:-0}")"
  log "  ${row_rps[$id]} req/s, p50 ${row_p50[$id]} ms, p99 ${row_p99[$id]} ms, server CPU ${row_cpu[$id]} µs/request (MariaDB ${row_db_cpu[$id]}), peak RSS ${row_rss[$id]} MiB, failed ${row_failed[$id]}"
}
