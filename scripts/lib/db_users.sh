# shellcheck shell=bash
# The SQL of the app's own database user: its one-time creation with the
# master credentials (infrastructure/bin/create-database-user) and the
# database side of one alternating-users rotation, step for step as AWS's
# SecretsManagerRDSMySQLRotationMultiUser function does it
# (scripts/rehearse-db-rotation). Source it; it only defines functions.
#
# Every function takes a runner: the name of a function or command that
# reads SQL on stdin and prints the rows tab-separated without headers
# (`mariadb --batch --skip-column-names` with the master user's options).
# Statements go to the runner on stdin, so no password is ever a
# command-line argument. Passwords must not contain a quote or a backslash
# (the rotation function and the first password exclude them, with / @ "
# and `); user and database names are [A-Za-z0-9_].

# db_users_check_name NAME: a user or database name these functions accept.
db_users_check_name() {
  [[ "$1" =~ ^[A-Za-z0-9_]{1,64}$ ]] || {
    echo "db_users: '$1' is not a plain user or database name" >&2
    return 1
  }
}

# db_users_check_password PASSWORD: printable, without quote or backslash.
db_users_check_password() {
  [[ -n "$1" && "$1" != *"'"* && "$1" != *\\* && "$1" =~ ^[[:print:]]+$ ]] || {
    echo "db_users: the password is empty or holds a quote, a backslash or a control character" >&2
    return 1
  }
}

# db_users_create RUNNER USER PASSWORD SCHEMA TLS: creates USER@% (or sets
# its password) with every privilege on SCHEMA (no GRANT OPTION) and
# REQUIRE TLS (SSL on RDS, NONE on a local server without TLS). Idempotent.
db_users_create() {
  local runner="$1" user="$2" password="$3" schema="$4" tls="$5"
  db_users_check_name "$user" && db_users_check_name "$schema" && db_users_check_password "$password" || return 1
  [[ "$tls" == SSL || "$tls" == NONE ]] || {
    echo "db_users: TLS must be SSL or NONE" >&2
    return 1
  }
  "$runner" <<SQL
CREATE USER IF NOT EXISTS '$user'@'%' IDENTIFIED BY '$password';
ALTER USER '$user'@'%' IDENTIFIED BY '$password' REQUIRE $tls;
GRANT ALL PRIVILEGES ON \`$schema\`.* TO '$user'@'%';
SQL
}

# db_users_alternate NAME: the other user of the pair (NAME <-> NAME_clone),
# as the rotation function derives it.
db_users_alternate() {
  if [[ "$1" == *_clone ]]; then
    echo "${1%_clone}"
  else
    echo "$1_clone"
  fi
}

# db_users_set_pending RUNNER CURRENT PENDING PASSWORD: the setSecret step
# of the multi-user rotation, run as the master user: create PENDING when
# it does not exist, give it every grant of CURRENT, copy CURRENT's TLS
# requirement, then set its password (MySQL 8 takes the password itself,
# MariaDB and MySQL 5.7 PASSWORD()). CURRENT is untouched.
db_users_set_pending() {
  local runner="$1" current="$2" pending="$3" password="$4"
  db_users_check_name "$current" && db_users_check_name "$pending" && db_users_check_password "$password" || return 1
  local exists grants grant version ssl_type password_value
  exists="$("$runner" <<<"SELECT COUNT(*) FROM mysql.user WHERE User = '$pending';")" || return 1
  if [[ "$exists" == 0 ]]; then
    "$runner" <<<"CREATE USER '$pending'@'%' IDENTIFIED BY '$password';" || return 1
  fi
  grants="$("$runner" <<<"SHOW GRANTS FOR '$current'@'%';")" || return 1
  while IFS= read -r grant; do
    [[ -n "$grant" ]] || continue
    "$runner" <<<"${grant%% TO *} TO '$pending'@'%';" || return 1
  done <<<"$grants"
  ssl_type="$("$runner" <<<"SELECT ssl_type FROM mysql.user WHERE User = '$current' AND Host = '%';")" || return 1
  case "$ssl_type" in
    "" | NONE) "$runner" <<<"ALTER USER '$pending'@'%' REQUIRE NONE;" ;;
    ANY) "$runner" <<<"ALTER USER '$pending'@'%' REQUIRE SSL;" ;;
    X509) "$runner" <<<"ALTER USER '$pending'@'%' REQUIRE X509;" ;;
    *)
      echo "db_users: $current requires a specific cipher, issuer or subject; not copied here" >&2
      return 1
      ;;
  esac || return 1
  version="$("$runner" <<<"SELECT VERSION();")" || return 1
  if [[ "$version" == 8* ]]; then
    password_value="'$password'"
  else
    password_value="PASSWORD('$password')"
  fi
  "$runner" <<<"SET PASSWORD FOR '$pending'@'%' = $password_value;"
}
