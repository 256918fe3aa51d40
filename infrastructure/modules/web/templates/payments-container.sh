#!/usr/bin/env bash
# The host side of the payments containers: the secrets they read and the
# image they should run. Containers themselves are started by payments-swap
# (deploy/ec2/swap-container.sh) only, at first boot and on every deploy.
#
#   payments-container secrets   fetch the secrets into /run/payments/secrets
#   payments-container image     print the image deployed last (repository:tag
#                                from the SSM parameter the pipeline writes)
#
# Secrets: the database URL is built from the database secret (the app's own
# user's, JSON with username and password; its AWSCURRENT version) inside jq
# and written, like the session key, to a file in /run/payments/secrets, on
# tmpfs (it refuses to write anywhere else, so no secret reaches a disk). The
# files belong to uid 10001, the image's user, with mode 0400; /run/payments
# itself is root's only. payments-swap mounts the directory read-only into
# each container and passes PAYMENTS_DATABASE_URL_FILE /
# PAYMENTS_SESSION_KEY_FILE, so no secret is ever an argument, an environment
# variable (Docker would keep it in the container's config on disk and show
# it in `docker inspect`), or written to a log.
set -euo pipefail

# shellcheck source=/dev/null
. /etc/payments/host.conf

readonly secrets_parent=/run/payments
readonly secrets_dir=/run/payments/secrets
# The image's user (app/web/Dockerfile).
readonly app_owner=10001:10001

usage() {
  echo "usage: payments-container secrets | image" >&2
  exit 2
}

fail() {
  echo "payments-container: $*" >&2
  exit 1
}

secret_string() {
  aws secretsmanager get-secret-value --region "$PAYMENTS_REGION" \
    --secret-id "$1" --query SecretString --output text
}

prepare_secrets_dir() {
  install -d -m 0700 -o root -g root "$secrets_parent"
  local fstype
  fstype="$(stat --file-system --format %T "$secrets_parent")"
  [[ "$fstype" == "tmpfs" ]] || fail "$secrets_parent is on $fstype, not tmpfs; secrets are never written to disk"
  install -d -m 0500 -o "${app_owner%%:*}" -g "${app_owner##*:}" "$secrets_dir"
}

# Moves a complete staged file into place with one rename, so a container
# starting meanwhile reads either the old or the new secret, never half of
# one. The containers mount the directory, so they see the new file.
install_staged() {
  local staged="$1" name="$2"
  chown "$app_owner" "$staged"
  chmod 0400 "$staged"
  mv -f "$staged" "$secrets_dir/$name"
}

write_secret_files() {
  umask 077
  prepare_secrets_dir

  local staged
  # The percent-encoding keeps any character of the generated password valid
  # inside the URL.
  staged="$(mktemp "$secrets_dir/.database-url.XXXXXX")"
  if secret_string "$PAYMENTS_DB_SECRET_ARN" |
    jq --join-output --arg host "$PAYMENTS_DB_HOST" --arg port "$PAYMENTS_DB_PORT" --arg db "$PAYMENTS_DB_NAME" \
      '"mysql://\(.username | @uri):\(.password | @uri)@\($host):\($port)/\($db)?ssl-mode=required"' \
      > "$staged" && [[ -s "$staged" ]]; then
    install_staged "$staged" database-url
  else
    rm -f "$staged"
    fail "could not read the database secret; the previous file, if any, is kept"
  fi

  staged="$(mktemp "$secrets_dir/.session-key.XXXXXX")"
  if secret_string "$PAYMENTS_SESSION_KEY_SECRET_ARN" | tr -d '\n' > "$staged" && [[ -s "$staged" ]]; then
    install_staged "$staged" session-key
  else
    rm -f "$staged"
    fail "could not read the session key secret; the previous file, if any, is kept"
  fi
}

current_image() {
  local tag
  tag="$(aws ssm get-parameter --region "$PAYMENTS_REGION" --name "$PAYMENTS_IMAGE_TAG_PARAMETER" \
    --query Parameter.Value --output text)"
  [[ -n "$tag" && "$tag" != "None" ]] || fail "$PAYMENTS_IMAGE_TAG_PARAMETER holds no image tag"
  printf '%s:%s\n' "$PAYMENTS_IMAGE_REPOSITORY" "$tag"
}

main() {
  [[ $# -eq 1 ]] || usage
  case "$1" in
    secrets) write_secret_files ;;
    image) current_image ;;
    *) usage ;;
  esac
}

main "$@"
