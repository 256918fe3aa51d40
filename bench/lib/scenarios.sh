# shellcheck shell=bash
# bench/run's scenarios: the API, the dashboard, the CSV export, and the
# bare MariaDB reference. Sourced by bench/run after bench/lib/measure.sh; it
# uses bench/run's globals (active_port, active_count, read_token,
# write_token, scratch, deep_pages, page_size, today, figure, row_suffix).
# shellcheck disable=SC2154 # globals (associative arrays among them) declared by bench/run

readonly bench_admin_email=bench-admin@example.org
bench_admin_password=""
session_cookie=""
# The cursor after the last row of the walk (walk_cursors).
deep_cursor=""

api() {
  curl --silent --show-error --fail --max-time 10 --header "Authorization: Bearer $read_token" \
    "http://127.0.0.1:$active_port/api/v1/$1"
}

# Follows next_cursor for BENCH_DEEP_PAGES pages of 25 and keeps the last
# cursor (for the deep page) and every id seen (for the get-by-id scenario).
walk_cursors() {
  local cursor="" page lines=() rows=0 started
  : >"$scratch/ids"
  log "walking $deep_pages pages of $page_size with curl"
  started="$(now_ns)"
  for ((page = 1; page <= deep_pages; page++)); do
    # One jq per page: the cursor on the first line, then the ids.
    mapfile -t lines < <(api "payments?limit=$page_size${cursor:+&starting_after=$cursor}" \
      | jq -r '(.next_cursor // "" | @uri), .data[].id')
    cursor="${lines[0]:-}"
    printf '%s\n' "${lines[@]:1}" >>"$scratch/ids"
    [[ -n "$cursor" ]] || die "the listing ended after page $page"
  done
  rows="$(wc -l <"$scratch/ids")"
  deep_cursor="$cursor"
  figure[walk_rows$row_suffix]="$rows"
  figure[walk_ms_per_page$row_suffix]="$(awk -v ns="$(($(now_ns) - started))" -v p="$deep_pages" 'BEGIN { printf "%.1f", ns / 1e6 / p }')"
  log "walked $rows rows, ${figure[walk_ms_per_page$row_suffix]} ms per page (curl + jq included)"
}

scenario_first_page() {
  measure_with_wrk --id first_page --name 'list, first page (limit=25)' --path '/api/v1/payments?limit=25'
}

scenario_deep_page() {
  walk_cursors
  measure_with_wrk --id deep_page --name "list, a page ${figure[walk_rows$row_suffix]} rows deep (starting_after)" \
    --path "/api/v1/payments?limit=25&starting_after=$deep_cursor"
}

scenario_filtered_list() {
  measure_with_wrk --id filtered --name 'list, filtered (status=succeeded, campaign=general)' \
    --path '/api/v1/payments?limit=25&status=succeeded&campaign=general'
}

scenario_get_payment() {
  export BENCH_IDS_FILE="$scratch/ids"
  measure_with_wrk --id get --name "one payment by id (cycling over $(wc -l <"$scratch/ids") ids)" \
    --path /api/v1/payments --script "$bench_dir/get-payment.lua"
}

summary_path() {
  echo "/api/v1/summary?from=$(date -u -d '399 days ago' +%F)&to=$today"
}

scenario_summary() {
  measure_with_wrk --id summary --name "summary, 400 days, $active_count payments" --path "$(summary_path)"
}

# One connection: the time one summary takes, without queueing behind others.
scenario_summary_one_connection() {
  measure_with_wrk --id summary_single --name "summary, 400 days, $active_count payments, one at a time" \
    --connections 1 --path "$(summary_path)"
}

scenario_summary_small_database() {
  measure_with_wrk --id summary_100k --name "summary, 400 days, $active_count payments" --path "$(summary_path)"
}

scenario_create_payment() {
  measure_with_wrk --id create --name 'create (POST, a fresh Idempotency-Key each)' \
    --path /api/v1/payments --script "$bench_dir/post-payment.lua" \
    --header "Authorization: Bearer $write_token"
}

# --- dashboard ----------------------------------------------------------------

# An admin for the dashboard scenarios (before the server starts).
create_dashboard_user() {
  local url="$1"
  bench_admin_password="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  printf '%s\n' "$bench_admin_password" \
    | "$payments_bin" user create --email "$bench_admin_email" --role admin --password-stdin \
      --database-url "$url" >/dev/null
}

# Logs in through the form once; keeps the session cookie for wrk.
log_in_to_dashboard() {
  local jar="$scratch/cookies"
  dashboard_login "http://127.0.0.1:$active_port" "$bench_admin_email" "$bench_admin_password" "$jar" \
    || die "could not log in to the dashboard"
  session_cookie="$(awk '$6 == "payments_session" { print $6 "=" $7 }' "$jar")"
  [[ -n "$session_cookie" ]] || die "no session cookie after logging in"
}

scenario_overview() {
  measure_with_wrk --id overview --name 'dashboard overview (GET /)' --connections 16 \
    --path / --header "Cookie: $session_cookie"
}

# One connection: the time one overview takes, without queueing behind others.
scenario_overview_single() {
  measure_with_wrk --id overview_single --name 'dashboard overview (GET /), one at a time' --connections 1 \
    --path / --header "Cookie: $session_cookie"
}

scenario_table_first_page() {
  measure_with_wrk --id table --name 'dashboard table, first page (GET /payments)' --connections 16 \
    --path /payments --header "Cookie: $session_cookie"
}

scenario_table_filtered() {
  measure_with_wrk --id table_filtered --name 'dashboard table, filtered (status, method, amount)' \
    --connections 16 --path '/payments?status=succeeded&method=card&amount_min=20' \
    --header "Cookie: $session_cookie"
}

# The whole table as CSV over one connection: rows per second, the server's
# peak RSS while it streams and its CPU time per 1,000 rows.
scenario_csv_export() {
  local key="csv$row_suffix" output="$scratch/export.csv" peak_file="$scratch/rss-csv" sampler started elapsed_ns rows
  local server_before server_after
  log "scenario $key: exporting every row"
  echo 0 >"$peak_file"
  sample_peak_memory "$server_pid" 900 "$peak_file" &
  sampler=$!
  server_before="$(process_cpu_ticks "$server_pid")"
  started="$(now_ns)"
  curl --silent --show-error --fail --max-time 900 --header "Cookie: $session_cookie" \
    --output "$output" "http://127.0.0.1:$active_port/payments.csv" || die "the CSV export failed"
  elapsed_ns=$(($(now_ns) - started))
  server_after="$(process_cpu_ticks "$server_pid")"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  rows=$(($(wc -l <"$output") - 1))
  figure[${key}_rows]="$rows"
  figure[${key}_seconds]="$(awk -v ns="$elapsed_ns" 'BEGIN { printf "%.1f", ns / 1e9 }')"
  figure[${key}_rate]="$(awk -v ns="$elapsed_ns" -v r="$rows" 'BEGIN { printf "%d", r / (ns / 1e9) }')"
  figure[${key}_peak_kib]="$(cat "$peak_file")"
  figure[${key}_mib]="$(awk -v b="$(stat -c %s "$output")" 'BEGIN { printf "%.0f", b / 1048576 }')"
  figure[${key}_cpu_per_1000]="$(microseconds_per $((server_after - server_before)) "$((rows / 1000))")"
  log "  $rows rows in ${figure[${key}_seconds]} s (${figure[${key}_rate]} rows/s), ${figure[${key}_mib]} MiB, peak RSS $(kib_as_mib "${figure[${key}_peak_kib]}") MiB, server CPU ${figure[${key}_cpu_per_1000]} µs per 1,000 rows"
  rm -f "$output"
}

# --- the bare MariaDB reference ------------------------------------------------

# capture_first_page_statements FILE DATABASE: writes the statements a
# first-page request sends MariaDB to FILE, one per line, as MariaDB's
# general log records them (a read of the token as well, when its cache
# entry had expired). The log is on, as a table, only while a fresh server
# starts and answers two requests (a warm-up one, then the one captured),
# and is put back as it was: MariaDB writes the values of a prepared
# statement's parameters into the log only for statements prepared while it
# is on.
capture_first_page_statements() {
  local file="$1" database="$2" saved_output saved_log since threads
  saved_output="$(sql 'SELECT @@GLOBAL.log_output')"
  saved_log="$(sql 'SELECT @@GLOBAL.general_log')"
  sql "SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1"
  start_server "$(database_url "$database")" "$port" statements
  api "payments?limit=$page_size" >/dev/null
  since="$(sql 'SELECT NOW(6)')"
  api "payments?limit=$page_size" >/dev/null
  sql "SET GLOBAL general_log = $saved_log; SET GLOBAL log_output = '$saved_output'"
  threads="$(sql "SELECT GROUP_CONCAT(ID) FROM information_schema.PROCESSLIST WHERE DB = '$database'")"
  stop_server
  [[ "$threads" =~ ^[0-9,]+$ ]] || die "no connections of the server to $database"
  sql "SELECT command_type, CONVERT(argument USING utf8mb4) FROM mysql.general_log
       WHERE event_time >= '$since' AND thread_id IN ($threads) ORDER BY event_time" >"$scratch/general-log.tsv"
  awk -F'\t' '$1 == "Execute" || $1 == "Query" { print $2 }' "$scratch/general-log.tsv" >"$file"
  figure[bare_commands]="$(awk -F'\t' '{ n[$1]++ } END { for (c in n) printf "%s%s×%d", (i++ ? ", " : ""), c, n[c] }' "$scratch/general-log.tsv")"
  [[ -s "$file" ]] || die "the general log shows no statement for a first-page request"
  ! grep -q '?' "$file" || die "the general log shows a statement without its parameters: $(cat "$file")"
  log "a first-page request sent: ${figure[bare_commands]}"
}

# measure_bare_mariadb DATABASE FILE: the rate at which MariaDB alone serves
# the statements in FILE (capture_first_page_statements) to a bare client
# (mariadb-slap, text protocol) at the same concurrency as wrk: the ceiling
# the first page is compared with. Run with the server stopped.
measure_bare_mariadb() {
  local database="$1" statements="$2" per_client output seconds
  per_client="${BENCH_BARE_QUERIES_PER_CLIENT:-2000}"
  figure[bare_statements]="$(paste -sd';' "$statements")"
  figure[bare_command]="mariadb-slap --host=$db_host --port=$db_port --user=root --create-schema=$database --no-drop --concurrency=$connections --iterations=3 --number-of-queries=$((connections * per_client * $(wc -l <"$statements"))) --delimiter=';' --query=\"<the statements>\""
  log "bare MariaDB: mariadb-slap, $connections clients, $per_client first pages each, 3 times"
  output="$(mariadb-slap --host="$db_host" --port="$db_port" --user=root --create-schema="$database" --no-drop \
    --concurrency="$connections" --iterations=3 \
    --number-of-queries=$((connections * per_client * $(wc -l <"$statements"))) \
    --delimiter=';' --query="${figure[bare_statements]}" 2>&1)" || { echo "$output" >&2; die "mariadb-slap failed"; }
  seconds="$(awk '/Average number of seconds to run all queries/ { print $(NF - 1) }' <<<"$output")"
  [[ -n "$seconds" ]] || { echo "$output" >&2; die "no timing in mariadb-slap's output"; }
  figure[bare_seconds]="$seconds"
  figure[bare_rate]="$(awk -v s="$seconds" -v n="$((connections * per_client))" 'BEGIN { printf "%d", n / s }')"
  log "  ${figure[bare_rate]} first pages/s (${connections} × $per_client in $seconds s)"
}
