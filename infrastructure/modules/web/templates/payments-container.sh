#!/usr/bin/env bash
# Starts payments containers the same way at first boot and on deploys.
#
#   payments-container secrets              fetch the secrets into /run/payments/secrets
#   payments-container image                print the image reference last deployed
#   payments-container migrate IMAGE        run the migrations once (safe concurrently)
#   payments-container start NAME IMAGE     start the app container NAME from IMAGE
#
# Secrets: the database URL is built from the RDS-managed secret inside jq
# and written, like the session key, to a file on tmpfs that only root can
# reach on the host. Each container bind-mounts the files read-only and finds
# them through PAYMENTS_DATABASE_URL_FILE / PAYMENTS_SESSION_KEY_FILE, so no
# secret is ever an argument, an environment variable (Docker would keep it
# in the container's config on disk and show it in `docker inspect`), or
# written to disk or to a log.
set -euo pipefail

# shellcheck source=/dev/null
. /etc/payments/host.conf

readonly secrets_dir=/run/payments/secrets

usage() {
  echo "usage: payments-container secrets | image | migrate IMAGE | start NAME IMAGE" >&2
  exit 2
}

secret_string() {
  aws secretsmanager get-secret-value --region "$PAYMENTS_REGION" \
    --secret-id "$1" --query SecretString --output text
}

# Copies the staged content into place without replacing the file: running
# containers bind-mount the file itself, and a rename would leave them
# reading the old inode.
install_secret_file() {
  local staged="$1" target="$2"
  if [[ ! -e "$target" ]]; then
    install -m 0444 /dev/null "$target"
  fi
  cat "$staged" > "$target"
  rm -f "$staged"
}

write_secret_files() {
  umask 077
  install -d -m 0700 /run/payments "$secrets_dir"

  # The percent-encoding keeps any character of the generated password valid
  # inside the URL.
  secret_string "$PAYMENTS_DB_SECRET_ARN" |
    jq --join-output --arg host "$PAYMENTS_DB_HOST" --arg port "$PAYMENTS_DB_PORT" --arg db "$PAYMENTS_DB_NAME" \
      '"mysql://\(.username | @uri):\(.password | @uri)@\($host):\($port)/\($db)?ssl-mode=required"' \
      > "$secrets_dir/.database-url.staged"
  install_secret_file "$secrets_dir/.database-url.staged" "$secrets_dir/database-url"

  secret_string "$PAYMENTS_SESSION_KEY_SECRET_ARN" | tr -d '\n' > "$secrets_dir/.session-key.staged"
  install_secret_file "$secrets_dir/.session-key.staged" "$secrets_dir/session-key"
}

current_image() {
  local tag
  tag="$(aws ssm get-parameter --region "$PAYMENTS_REGION" --name "$PAYMENTS_IMAGE_TAG_PARAMETER" \
    --query Parameter.Value --output text)"
  printf '%s:%s\n' "$PAYMENTS_IMAGE_REPOSITORY" "$tag"
}

instance_id() {
  local token
  token="$(curl -fsS -X PUT http://169.254.169.254/latest/api/token \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')"
  curl -fsS -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id
}

log_stream_name() {
  printf '%s/%s-%s' "$(instance_id)" "$1" "$(date -u +%Y%m%dT%H%M%SZ)"
}

ensure_secret_files() {
  if [[ ! -s "$secrets_dir/database-url" || ! -s "$secrets_dir/session-key" ]]; then
    write_secret_files
  fi
}

run_migrations() {
  local image="$1"
  ensure_secret_files
  docker run --rm --network host \
    --log-driver awslogs \
    --log-opt "awslogs-region=$PAYMENTS_REGION" \
    --log-opt "awslogs-group=$PAYMENTS_LOG_GROUP" \
    --log-opt "awslogs-stream=$(log_stream_name migrate)" \
    --env-file /etc/payments/app.env \
    --mount "type=bind,source=$secrets_dir/database-url,target=/run/secrets/database-url,readonly" \
    --read-only --tmpfs /tmp \
    --cap-drop ALL --security-opt no-new-privileges \
    "$image" migrate
}

start_app() {
  local name="$1" image="$2"
  ensure_secret_files
  docker run --detach --name "$name" --restart unless-stopped --network host \
    --log-driver awslogs \
    --log-opt "awslogs-region=$PAYMENTS_REGION" \
    --log-opt "awslogs-group=$PAYMENTS_LOG_GROUP" \
    --log-opt "awslogs-stream=$(log_stream_name "$name")" \
    --env-file /etc/payments/app.env \
    --mount "type=bind,source=$secrets_dir/database-url,target=/run/secrets/database-url,readonly" \
    --mount "type=bind,source=$secrets_dir/session-key,target=/run/secrets/session-key,readonly" \
    --health-cmd "payments healthcheck --url http://127.0.0.1:$PAYMENTS_APP_PORT/readyz" \
    --health-interval 10s --health-timeout 5s --health-retries 3 --health-start-period 30s \
    --stop-timeout "$PAYMENTS_STOP_TIMEOUT_SECONDS" \
    --read-only --tmpfs /tmp \
    --cap-drop ALL --security-opt no-new-privileges \
    "$image" serve
}

main() {
  [[ $# -ge 1 ]] || usage
  case "$1" in
    secrets) [[ $# -eq 1 ]] || usage; write_secret_files ;;
    image) [[ $# -eq 1 ]] || usage; current_image ;;
    migrate) [[ $# -eq 2 ]] || usage; run_migrations "$2" ;;
    start) [[ $# -eq 3 ]] || usage; start_app "$2" "$3" ;;
    *) usage ;;
  esac
}

main "$@"
