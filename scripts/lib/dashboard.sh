# shellcheck shell=bash
# Signing in to the dashboard with curl, the way a browser does: GET /login
# sets the login cookie and puts the CSRF token in the form; POST /login with
# the same cookie, the token, the email and the password answers 303 to `/`
# and sets the session cookie. Source it; it only defines functions.

# dashboard_login BASE_URL EMAIL PASSWORD COOKIE_JAR: signs in, keeping the
# cookies in COOKIE_JAR. Returns 1 (with a message) when the form has no CSRF
# token or the sign-in is not answered 303 to `/`.
dashboard_login() {
  local _base="$1" _email="$2" _password="$3" _jar="$4"  # callers: keep these names free of readonly
  local _form _csrf _answer
  _form="$(curl -fsS --max-time 10 -c "$_jar" -b "$_jar" "$_base/login")" || {
    echo "GET $_base/login failed" >&2
    return 1
  }
  _csrf="$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$_form" | head -n 1)"
  if [[ -z "$_csrf" ]]; then
    echo "the login form of $_base has no CSRF token" >&2
    return 1
  fi
  _answer="$(curl -sS --max-time 10 -c "$_jar" -b "$_jar" -o /dev/null \
    -w '%{http_code} %{redirect_url}' \
    --data-urlencode "csrf=$_csrf" --data-urlencode "email=$_email" \
    --data-urlencode "password=$_password" "$_base/login")"
  if [[ "$_answer" != "303 $_base/" ]]; then
    echo "POST $_base/login answered '$_answer', not '303 $_base/'" >&2
    return 1
  fi
}

# dashboard_status BASE_URL PATH COOKIE_JAR: the status code of a GET with the
# session cookie (redirects not followed).
dashboard_status() {
  curl -sS --max-time 30 -b "$3" -o /dev/null -w '%{http_code}' "$1$2"
}
