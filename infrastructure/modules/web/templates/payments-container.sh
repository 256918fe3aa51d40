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
# and written, like the session key and the two Stripe secrets (secret key,
# webhook signing secrets), to a file in /run/payments/secrets, on tmpfs (it
# refuses to write anywhere else, so no secret reaches a disk). The files
# belong to uid 10001, the image's user, with mode 0400; /run/payments itself
# is root's only. payments-swap mounts the directory read-only into each
# container and passes PAYMENTS_DATABASE_URL_FILE, PAYMENTS_SESSION_KEY_FILE,
# PAYMENTS_STRIPE_SECRET_KEY_FILE and PAYMENTS_STRIPE_WEBHOOK_SECRET_FILE, so
# no secret is ever an argument, an environment variable (Docker would keep it
# in the container's config on disk and show it in `docker inspect`), or
# written to a log.
#
# Every secret is fetched even when another one fails, so a Stripe secret
# whose value an operator has not put yet never stops the database URL from
# following a rotation; the command still fails (and says which secret), and
# a failed secret keeps its previous file, if any.
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

# Writes secret ARN, as it is (less newlines), to the file NAME; WHAT names
# it in the error.
write_plain_secret() {
  local arn="$1" name="$2" what="$3" staged
  staged="$(mktemp "$secrets_dir/.$name.XXXXXX")"
  if secret_string "$arn" | tr -d '\r\n' > "$staged" && [[ -s "$staged" ]]; then
    install_staged "$staged" "$name"
  else
    rm -f "$staged"
    echo "payments-container: could not read the $what ($arn; has its value been put?); the previous file, if any, is kept" >&2
    return 1
  fi
}

write_secret_files() {
  umask 077
  prepare_secrets_dir

  local staged failed=0
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
    echo "payments-container: could not read the database secret; the previous file, if any, is kept" >&2
    failed=1
  fi

  write_plain_secret "$PAYMENTS_SESSION_KEY_SECRET_ARN" session-key "session key secret" || failed=1
  write_plain_secret "$PAYMENTS_STRIPE_SECRET_KEY_SECRET_ARN" stripe-secret-key "Stripe secret key secret" || failed=1
  write_plain_secret "$PAYMENTS_STRIPE_WEBHOOK_SECRET_ARN" stripe-webhook-secret "Stripe webhook secret" || failed=1

  ((failed == 0)) || fail "not every secret could be written"
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
