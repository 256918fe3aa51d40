# shellcheck shell=bash
# bench/run's report: the tables of bench/results/<date>.md. Sourced by
# bench/run after bench/lib/scenarios.sh; it reads bench/run's row_* tables
# and figures.
# shellcheck disable=SC2154,SC2004 # globals (associative arrays among them) declared by bench/run

# "met" or "MISSED" for a condition awk evaluates.
verdict() {
  awk "BEGIN { exit !($1) }" && echo met || echo MISSED
}

# percent_change FROM TO: "+4.2%" or "-13.0%".
percent_change() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 == 0) print "-"; else printf "%+.1f%%", 100 * (b - a) / a }'
}

# The rows measured at BENCH_COUNT (those at other scales have an @ in their id).
results_table() {
  local id
  echo "| scenario | connections | req/s | p50 ms | p99 ms | server CPU µs/req | MariaDB CPU µs/req | server peak RSS MiB | failed |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for id in "${row_ids[@]}"; do
    [[ "$id" != *@* ]] || continue
    echo "| ${row_name[$id]} | ${row_connections[$id]} | ${row_rps[$id]} | ${row_p50[$id]} | ${row_p99[$id]} | ${row_cpu[$id]} | ${row_db_cpu[$id]} | ${row_rss[$id]} | ${row_failed[$id]} |"
  done
}

targets_table() {
  local idle_mib peak_mib first_rps first_p50 deep_rps deep_p50 bare_share
  idle_mib="$(kib_as_mib "${figure[idle_rss_kib]}")"
  peak_mib="$(kib_as_mib "${figure[peak_rss_kib]}")"
  first_rps="${row_rps[first_page]}" first_p50="${row_p50[first_page]}"
  deep_rps="${row_rps[deep_page]}" deep_p50="${row_p50[deep_page]}"
  bare_share="$(awk -v a="$first_rps" -v b="${figure[bare_rate]}" 'BEGIN { printf "%.0f", 100 * a / b }')"
  local all_failed=0 id
  for id in "${row_ids[@]}"; do all_failed=$((all_failed + row_failed[$id])); done
  cat <<TABLE
| target | measured | verdict |
|---|---|---|
| seeding MariaDB ≥ 50,000 payments/s | ${figure[seed_mariadb_rate]}/s (${figure[seed_mariadb_count]} in ${figure[seed_mariadb_seconds]} s; 100k database: ${figure[seed_mariadb_100k_rate]}/s) | $(verdict "${figure[seed_mariadb_rate]} >= 50000") |
| seeding SQLite (reference, no target) | ${figure[seed_sqlite_rate]}/s (${figure[seed_sqlite_count]} in ${figure[seed_sqlite_seconds]} s) | — |
| idle RSS < 30 MB | $idle_mib MiB (peak over all scenarios: $peak_mib MiB) | $(verdict "${figure[idle_rss_kib]} * 1024 < 30000000") |
| deep page within 2× of the first page (req/s and p50) | $deep_rps vs $first_rps req/s; p50 $deep_p50 vs $first_p50 ms | $(verdict "$deep_rps * 2 >= $first_rps && $deep_p50 <= 2 * $first_p50") |
| server CPU per first-page request ≤ 100 µs | ${row_cpu[first_page]} µs | $(verdict "${row_cpu[first_page]} <= 100") |
| server CPU per get-by-id request ≤ 100 µs | ${row_cpu[get]} µs | $(verdict "${row_cpu[get]} <= 100") |
| first page ≥ 60% of the rate MariaDB alone serves its statements to $connections clients | $first_rps req/s against ${figure[bare_rate]}/s bare: $bare_share% | $(verdict "$bare_share >= 60") |
| summary p50 ≤ 5 ms | ${row_p50[summary]} ms at $connections connections; ${row_p50[summary_single]} ms one at a time | $(verdict "${row_p50[summary]} <= 5") at $connections, $(verdict "${row_p50[summary_single]} <= 5") one at a time |
| summary cost does not grow with payments (p50 at ${large_count} ≤ 1.5× p50 at ${small_count}) | ${row_p50[summary]} vs ${row_p50[summary_100k]} ms | $(verdict "${row_p50[summary]} <= 1.5 * ${row_p50[summary_100k]}") |
| dashboard overview p50 ≤ 20 ms | ${row_p50[overview]} ms at 16 connections; ${row_p50[overview_single]} ms one at a time | $(verdict "${row_p50[overview]} <= 20") at 16, $(verdict "${row_p50[overview_single]} <= 20") one at a time |
| CSV export of all rows ≥ 300,000 rows/s | ${figure[csv_rate]} rows/s (${figure[csv_rows]} rows, ${figure[csv_mib]} MiB, in ${figure[csv_seconds]} s; server CPU ${figure[csv_cpu_per_1000]} µs per 1,000 rows) | $(verdict "${figure[csv_rate]} >= 300000") |
| server peak RSS during the CSV export < 64 MB | $(kib_as_mib "${figure[csv_peak_kib]}") MiB | $(verdict "${figure[csv_peak_kib]} * 1024 < 64000000") |
| no failed request (non-2xx or socket error) | $all_failed | $(verdict "$all_failed == 0") |
TABLE
}

bare_mariadb_section() {
  cat <<SECTION
Bare MariaDB: while one first-page request was served (right after a warm-up one), MariaDB's general log shows the server's connections sending ${figure[bare_commands]}:

\`\`\`sql
${figure[bare_statements]}
\`\`\`

MariaDB alone served that to $connections mariadb-slap clients at ${figure[bare_rate]} first pages/s (${figure[bare_seconds]} s per run, the average of 3), with the server stopped:

\`\`\`sh
${figure[bare_command]}
\`\`\`
SECTION
}

# scale_row LABEL AT_COUNT AT_SCALE TARGET: a figure at BENCH_COUNT and at a
# larger scale, how it moved, and, for TARGET "faster" (req/s) or "shorter"
# (p50), whether it stayed within 20%; "none": no target.
scale_row() {
  local label="$1" at_large="$2" at_scale="$3" target="$4" verdict_text="—"
  case "$target" in
    faster) verdict_text="$(verdict "$at_scale >= 0.8 * $at_large") (≥ 80% of the figure at $large_count)" ;;
    shorter) verdict_text="$(verdict "$at_scale <= 1.2 * $at_large") (≤ 120% of the figure at $large_count)" ;;
  esac
  echo "| $label | $at_large | $at_scale | $(percent_change "$at_large" "$at_scale") | $verdict_text |"
}

scale_table() {
  local scale="$1" id s rps_target p50_target
  echo "| figure | $large_count payments | $scale payments | change | target: at most 20% slower |"
  echo "|---|---:|---:|---:|---|"
  for id in first_page deep_page summary summary_single; do
    s="$id@$scale" rps_target=faster p50_target=shorter
    if [[ "$id" == summary_single ]]; then
      # One connection: its req/s is 1 / latency; the p50 row carries the target.
      rps_target=none
    fi
    scale_row "$id: req/s" "${row_rps[$id]}" "${row_rps[$s]}" "$rps_target"
    scale_row "$id: p50 ms" "${row_p50[$id]}" "${row_p50[$s]}" "$p50_target"
    scale_row "$id: server CPU µs/req" "${row_cpu[$id]}" "${row_cpu[$s]}" none
    scale_row "$id: MariaDB CPU µs/req" "${row_db_cpu[$id]}" "${row_db_cpu[$s]}" none
    scale_row "$id: failed" "${row_failed[$id]}" "${row_failed[$s]}" none
  done
  scale_row "CSV export: rows/s" "${figure[csv_rate]}" "${figure[csv@${scale}_rate]}" none
  scale_row "CSV export: server CPU µs per 1,000 rows" "${figure[csv_cpu_per_1000]}" "${figure[csv@${scale}_cpu_per_1000]}" none
  scale_row "CSV export: server peak RSS MiB" "$(kib_as_mib "${figure[csv_peak_kib]}")" "$(kib_as_mib "${figure[csv@${scale}_peak_kib]}")" none
  scale_row "seeding: payments/s" "${figure[seed_mariadb_rate]}" "${figure[seed_mariadb_${scale}_rate]}" none
  scale_row "tables and indexes MiB" "${figure[database_mib]}" "${figure[database_mib_$scale]}" none
  echo
  echo "At $scale payments: seeded in ${figure[seed_mariadb_${scale}_seconds]} s; the CSV export wrote ${figure[csv@${scale}_rows]} rows (${figure[csv@${scale}_mib]} MiB) in ${figure[csv@${scale}_seconds]} s; the deep page is ${figure[walk_rows@$scale]} rows deep (${figure[walk_ms_per_page@$scale]} ms per page walked); the CPUs were ${figure[busy_before_$scale]}% busy before its scenarios."
}

machine_facts() {
  local commit dirty=""
  commit="$(git -C "$project_root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git -C "$project_root" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    dirty=" (with uncommitted changes)"
  fi
  cat <<TABLE
| fact | value |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| git commit | \`$commit\`$dirty |
| CPU | $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo) |
| cores | $(nproc) (wrk, the server and MariaDB share them) |
| RAM | $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |
| kernel | $(uname -r) |
| MariaDB | $(sql 'SELECT VERSION()'), innodb_buffer_pool_size $(sql 'SELECT @@innodb_buffer_pool_size DIV 1048576') MiB${original_buffer_pool:+ (raised from $((original_buffer_pool / 1048576)) MiB for the run)}, innodb_flush_log_at_trx_commit $(sql 'SELECT @@innodb_flush_log_at_trx_commit'); the $large_count database: ${figure[database_mib]} MiB of tables and indexes |
| wrk | $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), $threads threads, ${duration} s per scenario |
| server | \`payments serve\` release build$(binary_origin), JSON logs at info, pool of 16 |
| CPU time | utime + stime of the process (/proc/<pid>/stat, ticks of 1/$clock_ticks s) before and after each wrk run, over the requests wrk counted; MariaDB's includes whatever else used it meanwhile |
| other load | CPUs ${figure[busy_before]}% busy before the seeding, ${figure[busy_before_scenarios]}% before the scenarios; load average at the end ${figure[load_at_end]} |
TABLE
}

binary_origin() {
  if [[ -n "${PAYMENTS_BIN:-}" ]]; then
    echo " (PAYMENTS_BIN=$PAYMENTS_BIN, modified $(date -u -r "$PAYMENTS_BIN" '+%Y-%m-%d %H:%M UTC'), not necessarily this commit)"
  else
    echo " (scripts/build-release from this tree)"
  fi
}

write_results() {
  mkdir -p "$results_dir"
  local file="$results_dir/$today.md" scale
  {
    echo "# Benchmark $today"
    echo
    echo "\`bench/run\`: wrk --latency, $threads threads, ${duration} s per scenario, against \`payments serve\` on MariaDB with $large_count seeded payments (the 100k row: a second database with $small_count)."
    echo
    results_table
    echo
    targets_table
    echo
    echo "Cursor walk before the deep page: ${figure[walk_rows]} rows in pages of $page_size, ${figure[walk_ms_per_page]} ms per page with curl and jq."
    echo
    bare_mariadb_section
    for scale in "${scales[@]}"; do
      echo
      echo "## $large_count against $scale payments"
      echo
      scale_table "$scale"
    done
    echo
    machine_facts
  } >"$file"
  cat "$file"
  log "written to ${file#"$project_root/"}"
}
