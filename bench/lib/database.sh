# shellcheck shell=bash
# The benchmarks' databases: the InnoDB buffer pool raised for a run and put
# back, databases created (and remembered, to be dropped on exit), seeded
# and measured. Sourced by bench/run and bench/webhooks after
# scripts/lib/service.sh; it uses their globals (buffer_pool_mb,
# original_buffer_pool, payments_bin, scratch, figure, created_databases).
# shellcheck disable=SC2154,SC2034 # globals (associative arrays among them) declared by the scripts

buffer_pool_bytes() {
  sql 'SELECT @@innodb_buffer_pool_size'
}

# Resizing is online; the variable shows the new size once it is done.
resize_buffer_pool() {
  local bytes="$1" deadline=$((SECONDS + 120))
  sql "SET GLOBAL innodb_buffer_pool_size = $bytes"
  until [[ "$(buffer_pool_bytes)" == "$bytes" ]]; do
    ((SECONDS < deadline)) || { log "warning: the buffer pool is still $(buffer_pool_bytes) bytes"; return 0; }
    sleep 0.5
  done
}

raise_buffer_pool() {
  ((buffer_pool_mb > 0)) || return 0
  local wanted=$((buffer_pool_mb * 1024 * 1024))
  original_buffer_pool="$(buffer_pool_bytes)"
  if ((original_buffer_pool < wanted)); then
    log "raising innodb_buffer_pool_size from $((original_buffer_pool / 1048576)) to $buffer_pool_mb MiB for the run"
    resize_buffer_pool "$wanted"
  else
    original_buffer_pool=""
  fi
}

restore_buffer_pool() {
  [[ -n "$original_buffer_pool" ]] || return 0
  resize_buffer_pool "$original_buffer_pool" 2>/dev/null || true
  original_buffer_pool=""
}

# seed_and_measure KEY URL COUNT [SEED FLAGS…]: migrates, seeds COUNT
# payments into URL (with `payments seed`'s other flags, if any) and records
# the rate under KEY.
seed_and_measure() {
  local key="$1" url="$2" count="$3" started elapsed_ns
  shift 3
  "$payments_bin" migrate --database-url "$url" >/dev/null 2>&1 || die "migrate failed on $key"
  log "seeding $count payments ($key)"
  started="$(now_ns)"
  "$payments_bin" seed --count "$count" --database-url "$url" "$@" >"$scratch/seed-$key.log" 2>&1 \
    || { cat "$scratch/seed-$key.log" >&2; die "seed failed on $key"; }
  elapsed_ns=$(($(now_ns) - started))
  figure["seed_${key}_count"]="$count"
  figure["seed_${key}_seconds"]="$(awk -v ns="$elapsed_ns" 'BEGIN { printf "%.1f", ns / 1e9 }')"
  figure["seed_${key}_rate"]="$(awk -v n="$count" -v ns="$elapsed_ns" 'BEGIN { printf "%d", n / (ns / 1e9) }')"
  log "seeded $count in ${figure["seed_${key}_seconds"]} s: ${figure["seed_${key}_rate"]} payments/s"
}

# new_database NAME: created empty, and dropped on exit.
new_database() {
  create_database "$1"
  created_databases+=("$1")
}

# The size of a database's tablespace files (tables and indexes), in MiB.
database_mib() {
  sql "SELECT ROUND(SUM(ALLOCATED_SIZE) / 1048576) FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME LIKE '$1/%'"
}
