# shellcheck shell=bash
# HAProxy in front of scripts/rehearse-deploy's two hosts: its configuration
# (health check GET /readyz, retries on or off), its container and its
# per-server statistics. Sourced by scripts/rehearse-deploy; the functions
# use its globals (scratch, lb_port, stats_port, host_port, lb_retries,
# haproxy_name).
# shellcheck disable=SC2154 # globals declared by scripts/rehearse-deploy

write_haproxy_config() {
  local retry_lines
  if [[ "$lb_retries" == "on" ]]; then
    # POSTs carry an Idempotency-Key, so a retried one cannot pay twice.
    retry_lines=$'    retries 3\n    option redispatch 1\n    retry-on conn-failure empty-response response-timeout'
  else
    retry_lines=$'    retries 0'
  fi
  cat >"$scratch/haproxy.cfg" <<EOF
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 15s
    timeout http-keep-alive 30s
    timeout check 2s
$retry_lines

frontend api
    bind 127.0.0.1:$lb_port
    default_backend app

backend app
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server check inter 1s fall 2 rise 1
    server a 127.0.0.1:${host_port[a]}
    server b 127.0.0.1:${host_port[b]}

frontend stats
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /stats
EOF
  chmod 0644 "$scratch/haproxy.cfg"
}

start_haproxy() {
  docker run --detach --name "$haproxy_name" --network host --stop-signal SIGUSR1 \
    --mount "type=bind,source=$scratch/haproxy.cfg,target=/usr/local/etc/haproxy/haproxy.cfg,readonly" \
    "$LOCAL_HAPROXY_IMAGE" >/dev/null || die "HAProxy did not start"
  wait_until 30 "HAProxy to see both hosts up" both_hosts_up || die "HAProxy never saw both hosts up"
}

# The backend's servers as CSV fields by name: "<server> <field>...".
haproxy_server_stats() {
  curl --silent --max-time 2 "http://127.0.0.1:$stats_port/stats;csv" | awk -F, -v want="$*" '
    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; n = split(want, w, " "); next }
    $1 == "app" && $2 != "BACKEND" && $2 != "FRONTEND" {
      line = $2; for (i = 1; i <= n; i++) line = line " " $(col[w[i]]); print line
    }'
}

both_hosts_up() {
  [[ "$(haproxy_server_stats status | grep -c ' UP$')" == "2" ]]
}
