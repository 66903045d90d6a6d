# shellcheck shell=bash
# Sourced by the CI scripts that talk to a running server (.ci/schemathesis, .ci/clients,
# .ci/swagger-ui), so that they share one way of starting it: a fresh SQLite database in a
# temporary directory, the E-1 example (`ams demo-data --example e1`), the server on a free
# local port, and a staff token. The caller is expected to have cd'ed to the repository root.
#   AMS_BIN  the server binary; default target/debug/ams, built first with `cargo build -p api`
#
# start_example_server sets `base` (http://127.0.0.1:PORT), `staff` (a bearer token of the
# staff user `admin`), `work` (the temporary directory, removed on exit) and `server` (the
# server's process id), and installs an EXIT trap that stops the server, prints the end of
# its log when the script fails, and removes the directory. Settings for the server (e.g.
# AMS_LOGIN_ATTEMPTS_PER_MINUTE) may be exported before the call.

# token USERNAME PASSWORD: print an access token from POST /api/v1/auth/token.
token() {
  curl -fsS -X POST "$base/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$2\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

stop_example_server() {
  local status=$?
  if [ -n "${server:-}" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [ "$status" != 0 ] && [ -s "${work:-}/server.log" ]; then
    echo "-- last lines of the server log" >&2
    tail -n 20 "$work/server.log" >&2
  fi
  [ -z "${work:-}" ] || rm -rf "$work"
  exit "$status"
}

start_example_server() {
  if [ -z "${AMS_BIN:-}" ]; then
    cargo build -q -p api
    AMS_BIN=target/debug/ams
  fi
  work=$(mktemp -d)
  server=
  trap stop_example_server EXIT
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  export AMS_DATABASE_URL="sqlite://$work/ams.db?mode=rwc"
  export AMS_ADMIN_PASSWORD="${AMS_ADMIN_PASSWORD:-ci-admin-password}"
  export AMS_BIND="127.0.0.1:$port"
  export AMS_LOG="${AMS_LOG:-warn}"
  "$AMS_BIN" demo-data --example e1 >/dev/null
  "$AMS_BIN" >"$work/server.log" 2>&1 &
  server=$!
  local _
  for _ in $(seq 1 60); do
    curl -fs "$base/health" >/dev/null && break
    kill -0 "$server" 2>/dev/null || { echo "the server exited at start" >&2; return 1; }
    sleep 0.5
  done
  curl -fsS "$base/health" >/dev/null || { echo "the server did not answer /health in 30 s" >&2; return 1; }
  # shellcheck disable=SC2034 # for the scripts that source this file
  staff=$(token admin "$AMS_ADMIN_PASSWORD")
}
