#!/usr/bin/env bash
# Shared functions for ./scripts/up, ./scripts/cluster and ./scripts/test. Source it;
# don't run it.
#
# Everything here is idempotent: on a machine that already has the toolchain target,
# MariaDB, Redis, the database and its users, each function only checks and returns.
# On a fresh Debian machine they install (apt) and start what is missing. There is no
# systemd in our containers, so services are started directly as daemons.
#
# Database accounts (the issue asks for least privilege):
#   rankedhonor          the app (Spin components): SELECT, INSERT, UPDATE, DELETE on
#                        its own database only. Password RH_DB_PASSWORD.
#   rankedhonor_migrate  rh-migrate: all privileges on the same database (DDL), without
#                        GRANT OPTION. Password RH_MIGRATE_PASSWORD. ./scripts/test also
#                        lets it create the throw-away rankedhonor_scratch_* databases
#                        the migration tests use.
#   rankedhonor_sidecar  rh-sidecar: SELECT on the two revocation tables only, read when
#                        Redis has lost its marks. Password RH_SIDECAR_DB_PASSWORD.
# Root is used only here, to create databases and accounts: first over TCP with an
# empty password (our dev machines), else over the local socket (fresh Debian, where
# root authenticates with unix_socket and must therefore run as the OS root).

set -euo pipefail

RH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export RH_DB_HOST="${RH_DB_HOST:-127.0.0.1}"
export RH_DB_PORT="${RH_DB_PORT:-3306}"
export RH_DB_USER="${RH_DB_USER:-rankedhonor}"
export RH_DB_PASSWORD="${RH_DB_PASSWORD:-rankedhonor-dev}"
export RH_MIGRATE_USER="${RH_MIGRATE_USER:-rankedhonor_migrate}"
export RH_MIGRATE_PASSWORD="${RH_MIGRATE_PASSWORD:-rankedhonor-migrate-dev}"
export RH_SIDECAR_DB_USER="${RH_SIDECAR_DB_USER:-rankedhonor_sidecar}"
export RH_SIDECAR_DB_PASSWORD="${RH_SIDECAR_DB_PASSWORD:-rankedhonor-sidecar-dev}"
export RH_REDIS_HOST="${RH_REDIS_HOST:-127.0.0.1}"
export RH_REDIS_PORT="${RH_REDIS_PORT:-6379}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() {
  printf '\033[1;31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# sudo when not root and sudo exists; nothing otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root for: $*"
  fi
}

# Is something listening on HOST PORT? (bash's /dev/tcp: no extra tool needed)
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_for_port HOST PORT NAME [SECONDS]
wait_for_port() {
  local deadline=$((SECONDS + ${4:-30}))
  until port_open "$1" "$2"; do
    [ "$SECONDS" -lt "$deadline" ] || die "$3 did not start listening on $1:$2"
    sleep 0.2
  done
}

APT_UPDATED=0
# apt_install PACKAGE... : installs the packages that are not installed yet.
apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# HAProxy, the load balancer of ./scripts/cluster and of the cluster tests.
ensure_haproxy() {
  command -v haproxy >/dev/null 2>&1 || apt_install haproxy
}

# Debian's Prometheus: promtool checks deploy/monitoring's rules, and a real server scrapes
# the test app (tests/tests/api/observability.rs). Only the binaries are used: the
# package's own service is not needed, and nothing here starts it.
ensure_prometheus() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || apt_install prometheus
}

ensure_toolchain() {
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust with rustup (https://rustup.rs)"
  ensure_rust_target wasm32-wasip2
}

# ensure_rust_target TARGET : rustup target add, only when missing.
ensure_rust_target() {
  local installed
  # Captured first: `rustup ... | grep -q` under pipefail fails when grep exits early.
  installed="$(rustup target list --installed 2>/dev/null || true)"
  if ! grep -qx "$1" <<<"$installed"; then
    log "adding the $1 target"
    rustup target add "$1"
  fi
}

# Starts MariaDB when nothing answers at RH_DB_HOST:RH_DB_PORT. If something else
# answers there (a managed MySQL, another container), it is used as is.
ensure_mariadb() {
  if port_open "$RH_DB_HOST" "$RH_DB_PORT"; then
    command -v mysql >/dev/null 2>&1 || apt_install mariadb-client
    return 0
  fi
  case "$RH_DB_HOST" in
    127.0.0.1 | localhost) ;;
    *) die "nothing answers at $RH_DB_HOST:$RH_DB_PORT and it is not local: start it yourself" ;;
  esac
  apt_install mariadb-server mariadb-client
  log "starting MariaDB"
  as_root mkdir -p /run/mysqld
  as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
  if [ ! -d /var/lib/mysql/mysql ]; then
    as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  if ! as_root service mariadb start >/dev/null 2>&1; then
    as_root start-stop-daemon --start --oknodo --background \
      --exec /usr/sbin/mariadbd -- --user=mysql --port="$RH_DB_PORT"
  fi
  wait_for_port "$RH_DB_HOST" "$RH_DB_PORT" MariaDB 60
  RH_STARTED_MARIADB=1
}

ensure_redis() {
  if port_open "$RH_REDIS_HOST" "$RH_REDIS_PORT"; then
    command -v redis-cli >/dev/null 2>&1 || apt_install redis-tools
    return 0
  fi
  case "$RH_REDIS_HOST" in
    127.0.0.1 | localhost) ;;
    *) die "nothing answers at $RH_REDIS_HOST:$RH_REDIS_PORT and it is not local: start it yourself" ;;
  esac
  apt_install redis-server redis-tools
  log "starting Redis"
  # No persistence: Redis holds only what MySQL can rebuild (leaderboards, queues,
  # rate limits), so a dev restart losing it is fine and saves disk writes.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$RH_REDIS_PORT" --save "" --appendonly no >/dev/null
  wait_for_port "$RH_REDIS_HOST" "$RH_REDIS_PORT" Redis 30
  RH_STARTED_REDIS=1
}

# Stops MariaDB and Redis if (and only if) this script started them, so that
# ./scripts/test leaves nothing running that was not running before.
RH_STARTED_MARIADB=0
RH_STARTED_REDIS=0
stop_started_services() {
  if [ "$RH_STARTED_REDIS" -eq 1 ]; then
    log "stopping the Redis this script started"
    redis-cli -h "$RH_REDIS_HOST" -p "$RH_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ "$RH_STARTED_MARIADB" -eq 1 ]; then
    log "stopping the MariaDB this script started"
    root_sql "SHUTDOWN" >/dev/null 2>&1 || true
  fi
}

# root_sql SQL : runs SQL as the database's root account (see the header).
root_sql() {
  if mysql -uroot -h"$RH_DB_HOST" -P"$RH_DB_PORT" --protocol=TCP -e "SELECT 1" >/dev/null 2>&1; then
    mysql -uroot -h"$RH_DB_HOST" -P"$RH_DB_PORT" --protocol=TCP -e "$1"
  elif as_root mysql -uroot -e "SELECT 1" >/dev/null 2>&1; then
    as_root mysql -uroot -e "$1"
  else
    die "cannot log in to MariaDB as root (tried TCP with an empty password and the local socket)"
  fi
}

# sql_quote STRING : a single-quoted SQL string literal.
sql_quote() {
  printf "'%s'" "$(printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/''/g")"
}

# ensure_app_db NAME : creates database NAME, the app and migration accounts (for both
# localhost and 127.0.0.1, since MariaDB may see a TCP client from loopback as either)
# and their grants on NAME. Safe to run again; also resets the passwords to the
# configured ones.
ensure_app_db() {
  local db="$1"
  [[ "$db" =~ ^[A-Za-z0-9_]+$ ]] || die "bad database name: $db"
  local app_pw migrate_pw sql="" host
  app_pw="$(sql_quote "$RH_DB_PASSWORD")"
  migrate_pw="$(sql_quote "$RH_MIGRATE_PASSWORD")"
  sql+="CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
  for host in localhost 127.0.0.1; do
    sql+="CREATE USER IF NOT EXISTS '$RH_DB_USER'@'$host' IDENTIFIED BY $app_pw;"
    sql+="ALTER USER '$RH_DB_USER'@'$host' IDENTIFIED BY $app_pw;"
    sql+="GRANT SELECT, INSERT, UPDATE, DELETE ON \`$db\`.* TO '$RH_DB_USER'@'$host';"
    sql+="CREATE USER IF NOT EXISTS '$RH_MIGRATE_USER'@'$host' IDENTIFIED BY $migrate_pw;"
    sql+="ALTER USER '$RH_MIGRATE_USER'@'$host' IDENTIFIED BY $migrate_pw;"
    sql+="GRANT ALL PRIVILEGES ON \`$db\`.* TO '$RH_MIGRATE_USER'@'$host';"
  done
  log "database $db and its accounts"
  root_sql "$sql"
}

# ensure_sidecar_account DB : the sidecar's read-only account on DB (SELECT on the
# revocation tables). Call it after migrate_db: a table's grant needs the table.
ensure_sidecar_account() {
  local db="$1" pw sql="" host table
  [[ "$db" =~ ^[A-Za-z0-9_]+$ ]] || die "bad database name: $db"
  pw="$(sql_quote "$RH_SIDECAR_DB_PASSWORD")"
  for host in localhost 127.0.0.1; do
    sql+="CREATE USER IF NOT EXISTS '$RH_SIDECAR_DB_USER'@'$host' IDENTIFIED BY $pw;"
    sql+="ALTER USER '$RH_SIDECAR_DB_USER'@'$host' IDENTIFIED BY $pw;"
    for table in revoked_access_tokens user_token_cutoffs; do
      sql+="GRANT SELECT ON \`$db\`.\`$table\` TO '$RH_SIDECAR_DB_USER'@'$host';"
    done
  done
  root_sql "$sql"
}

# sidecar_database_url DB : what rh-sidecar gets as RH_SIDECAR_DATABASE_URL.
sidecar_database_url() {
  db_url "$RH_SIDECAR_DB_USER" "$RH_SIDECAR_DB_PASSWORD" "$1"
}

# Lets the migration account create and drop rankedhonor_scratch_* databases
# (rh-migrate's own tests). Only ./scripts/test calls it.
ensure_scratch_grants() {
  local sql="" host
  for host in localhost 127.0.0.1; do
    sql+="GRANT ALL PRIVILEGES ON \`rankedhonor\\_scratch\\_%\`.* TO '$RH_MIGRATE_USER'@'$host';"
  done
  root_sql "$sql"
}

# db_url USER PASSWORD DB : a mysql:// URL (password percent-encoded).
db_url() {
  local pw
  pw="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$2" 2>/dev/null || printf '%s' "$2")"
  printf 'mysql://%s:%s@%s:%s/%s' "$1" "$pw" "$RH_DB_HOST" "$RH_DB_PORT" "$3"
}

# migrate_db NAME : applies the migrations to database NAME with the migration account.
migrate_db() {
  log "migrating $1"
  RH_MIGRATE_URL="$(db_url "$RH_MIGRATE_USER" "$RH_MIGRATE_PASSWORD" "$1")" \
    "$RH_ROOT/target/release/rh-migrate" run
}

# seed_bench_players DB N : the benchmarks' population in DB (never the up or test
# databases): N ranked 1v1 players (ids 1..N, regions in turn, a bell of ratings), then 64
# unranked players (ids N+1..N+64) for 2v2 results. The ranked ones have played their
# placement in the active season, so they are on its board. Everything else of theirs is
# deleted.
seed_bench_players() {
  local db="$1" players="$2"
  [[ "$db" =~ ^[A-Za-z0-9_]+$ ]] || die "bad database name: $db"
  [[ "$players" =~ ^[0-9]+$ ]] || die "bad player count: $players"
  log "seeding $players ranked 1v1 players (and 64 2v2 players for results) in $db"
  root_sql "
USE \`$db\`;
SET FOREIGN_KEY_CHECKS = 0;
DELETE FROM user_achievements; DELETE FROM notifications; DELETE FROM feed_events;
DELETE FROM match_events; DELETE FROM match_participants; DELETE FROM matches;
DELETE FROM refresh_tokens; DELETE FROM user_stats; DELETE FROM users;
SET FOREIGN_KEY_CHECKS = 1;
INSERT INTO users (id, email, username, username_lower, password_hash, region, created_at_ms, updated_at_ms)
  SELECT seq, CONCAT('b', seq, '@bench.example'), CONCAT('b', seq), CONCAT('b', seq), 'x',
         ELT(1 + seq % 5, 'na', 'eu', 'sa', 'asia', 'oce'), 0, 0
  FROM seq_1_to_$((players + 64));
INSERT INTO user_stats (user_id, mode, mmr, mu, sigma, wins, losses, games, season_id,
                        season_games, season_wins, season_losses, placed)
  SELECT seq, '1v1', m, 25 + (m - 1500) / 40, 4.0, 10, 10, 20, a.id, 20, 10, 10, 1
  FROM (SELECT seq, 1500 + FLOOR((RAND(seq) + RAND(seq * 7) + RAND(seq * 13) - 1.5) * 600) AS m
        FROM seq_1_to_$players) s
  JOIN (SELECT id FROM seasons WHERE status = 'active') a;"
}

# Package names of the wasm-only crates: every components/*/ and runtime/fixtures/*/
# (read from their Cargo.toml, so a new component needs no script change).
wasm_packages() {
  local manifest
  for manifest in "$RH_ROOT"/components/*/Cargo.toml "$RH_ROOT"/runtime/fixtures/*/Cargo.toml; do
    [ -f "$manifest" ] || continue
    sed -n '/^\[package\]/,/^\[/{s/^name *= *"\([^"]*\)".*/\1/p}' "$manifest" | head -n1
  done
}

component_packages() {
  local manifest
  for manifest in "$RH_ROOT"/components/*/Cargo.toml; do
    [ -f "$manifest" ] || continue
    sed -n '/^\[package\]/,/^\[/{s/^name *= *"\([^"]*\)".*/\1/p}' "$manifest" | head -n1
  done
}

# The cargo selection of every native crate: the workspace minus the wasm-only packages.
native_selection() {
  local pkg
  printf '%s\n' --workspace
  for pkg in $(wasm_packages); do printf -- '--exclude\n%s\n' "$pkg"; done
}

# build_native : the native binaries (rh-runtime, rh-sidecar, rh-migrate) and every test
# binary, by `cargo test --no-run` over native_selection: what ./scripts/test builds.
# Cargo builds a package's binaries with its integration tests, so the binaries land in
# target/release as usual.
build_native() {
  cd "$RH_ROOT"
  log "building the native crates and their tests (release)"
  local selection
  mapfile -t selection < <(native_selection)
  cargo test --release --no-run "${selection[@]}"
}

# build_stack_native : what ./scripts/up and ./scripts/cluster build: the same crates
# with the same features as build_native, but only libraries and binaries, so no test
# binary is linked (each links wasmtime: minutes on two cores). A plain `cargo build -p
# rh-runtime` would resolve features without the dev-dependencies and compile tokio,
# mysql_async, wasmtime and the rest differently from `cargo test`; naming one example
# makes cargo resolve them as `cargo test` does (checked with `cargo build
# --unit-graph`: no dependency unit differs), so ./scripts/test after ./scripts/up
# compiles only our own crates' tests, no dependency again.
build_stack_native() {
  cd "$RH_ROOT"
  log "building the native binaries (release)"
  local selection
  mapfile -t selection < <(native_selection)
  cargo build --release "${selection[@]}" --lib --bins --example bench_grouping
}

# build_wasm : the console (console/dist, which the console component embeds), then
# every wasm package (components and the runtime's fixtures) for wasm32-wasip2 in one
# cargo invocation, so their shared dependencies are resolved and compiled once, and
# fixture-hello also as a wasm32-wasip1 core module (the runtime adapts it into a
# component). One selection for up and test alike, as for build_native.
build_wasm() {
  cd "$RH_ROOT"
  build_console
  local args=() pkg
  for pkg in $(wasm_packages); do args+=(-p "$pkg"); done
  [ "${#args[@]}" -gt 0 ] || return 0
  log "building components and runtime fixtures for wasm32-wasip2"
  cargo build --release --target wasm32-wasip2 "${args[@]}"
  if [ -f runtime/fixtures/hello/Cargo.toml ]; then
    ensure_rust_target wasm32-wasip1
    cargo build --release --target wasm32-wasip1 -p fixture-hello
  fi
}

# prepare_stack DB : everything ./scripts/up and ./scripts/cluster need before starting
# processes: toolchain, MariaDB and Redis, database DB and its accounts, the binaries and
# components built, migrations applied, and the app's variables (dev_app_variables).
prepare_stack() {
  ensure_toolchain
  ensure_mariadb
  ensure_redis
  ensure_app_db "$1"
  build_wasm
  build_stack_native
  migrate_db "$1"
  ensure_sidecar_account "$1"
  dev_app_variables "$1"
}

# dev_app_variables DB : exports the SPIN_VARIABLE_* the app needs, pointing at DB, with
# dev-only defaults. The JWT secret below is public (it is in this file): never use it
# outside a development machine; production sets SPIN_VARIABLE_JWT_SECRET from a secret
# store. A value already in the environment always wins.
dev_app_variables() {
  export SPIN_VARIABLE_DB_HOST="${SPIN_VARIABLE_DB_HOST:-$RH_DB_HOST:$RH_DB_PORT}"
  export SPIN_VARIABLE_DB_NAME="${SPIN_VARIABLE_DB_NAME:-$1}"
  export SPIN_VARIABLE_DB_USER="${SPIN_VARIABLE_DB_USER:-$RH_DB_USER}"
  export SPIN_VARIABLE_DB_PASSWORD="${SPIN_VARIABLE_DB_PASSWORD:-$RH_DB_PASSWORD}"
  export SPIN_VARIABLE_REDIS_HOST="${SPIN_VARIABLE_REDIS_HOST:-$RH_REDIS_HOST:$RH_REDIS_PORT}"
  export SPIN_VARIABLE_JWT_SECRET="${SPIN_VARIABLE_JWT_SECRET:-dev-only-jwt-secret-do-not-use-in-production-0123456789}"
  export SPIN_VARIABLE_GAME_SERVER_KEY="${SPIN_VARIABLE_GAME_SERVER_KEY:-dev-only-game-server-key-do-not-use-in-production}"
  # 32 bytes as hex: the AES-256-GCM key provider tokens are stored under (dev only).
  export SPIN_VARIABLE_INTEGRATION_KEY="${SPIN_VARIABLE_INTEGRATION_KEY:-00000000000000000000000000000000000000000000000000000000000000de}"
  # What a Prometheus scraper sends to GET /api/v1/metrics (dev only; empty = route off).
  export SPIN_VARIABLE_METRICS_TOKEN="${SPIN_VARIABLE_METRICS_TOKEN-dev-only-metrics-token}"
  # The components can only check the secret per request; refuse a weak one here, before
  # anything starts (HS256 needs at least 256 bits; the sidecar refuses it too).
  [ "${#SPIN_VARIABLE_JWT_SECRET}" -ge 32 ] ||
    die "SPIN_VARIABLE_JWT_SECRET must be at least 32 bytes (256 bits)"
}

# The sidecar's Redis URL for the app's variables (pub/sub ignores the db; revocation
# keys are read from it, so it must be the app's db).
sidecar_redis_url() {
  printf 'redis://%s/%s' "$SPIN_VARIABLE_REDIS_HOST" "${SPIN_VARIABLE_REDIS_DB:-0}"
}

# ---------------------------------------------------------------------------------------
# Node: the TypeScript client (clients/typescript) and the web console (console/).
# Kept in these functions so the scripts call them in one line each.
# ---------------------------------------------------------------------------------------

# Is Node.js 20+ with npm here? (Vite 8 needs Node 20.19+; Debian 12's nodejs is 18.)
node_available() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 1
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}

# npm_ci DIR : `npm ci` in DIR unless its node_modules were installed from this very
# lockfile (a stamp of its hash), so repeated runs cost nothing. The lockfile pins every
# package; npm's cache serves what it has.
npm_ci() {
  local dir="$RH_ROOT/$1" stamp sum
  stamp="$dir/node_modules/.rh-lockfile-sha256"
  sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return 0; fi
  log "npm ci in $1"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || return 1
  printf '%s\n' "$sum" >"$stamp"
}

# Builds console/dist (which components/console embeds), with the client it uses. Without
# Node the console component still builds, and /console answers a page saying how to
# build it. Run before the components are compiled.
build_console() {
  if ! node_available; then
    warn "Node.js 20.19+ with npm not found: /console will only say the console was not built (install Node, then run this again)"
    return 0
  fi
  npm_ci clients/typescript && npm_ci console || die "npm ci failed"
  log "building the console (console/dist)"
  (cd "$RH_ROOT/clients/typescript" && npm run --silent build) || die "the TypeScript client did not build"
  (cd "$RH_ROOT/console" && npm run --silent build >/dev/null) || die "the console did not build"
}

# The WebSocket URL the console's page connects to, for a sidecar on ADDR (host:port).
console_variables() {
  export SPIN_VARIABLE_CONSOLE_WEBSOCKET_URL="${SPIN_VARIABLE_CONSOLE_WEBSOCKET_URL:-ws://$1/ws}"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_node_tests DB : the client's and the console's tests against a live stack of their
# own: rh-runtime (spin.toml, database DB, Redis db 2, emptied first) and rh-sidecar on
# free ports, started here and stopped on return. Needs the binaries and components built
# and DB migrated (the console component built after build_console). Checks first that the generated types match docs/. Chromium comes from
# Debian (installed when missing); nothing downloads a browser.
run_node_tests() {
  local db="$1"
  node_available || {
    warn "Node.js 20.19+ not found: skipping the TypeScript client and console tests"
    [ "${CI:-}" != "true" ] || die "CI needs Node.js 20.19+ for the client and console tests"
    return 0
  }
  [ -x /usr/bin/chromium ] || apt_install chromium
  [ -z "${RH_CONSOLE_SCREENSHOTS:-}" ] || export RH_CONSOLE_SCREENSHOTS="$(realpath -m "$RH_CONSOLE_SCREENSHOTS")"
  log "client: generated types against docs/openapi.yaml"
  (cd "$RH_ROOT/clients/typescript" && node scripts/generate.mjs --check) || return 1
  (
    set -euo pipefail
    local api ws logdir pids=()
    api="127.0.0.1:$(free_port)"
    ws="127.0.0.1:$(free_port)"
    logdir="$RH_ROOT/target/node-tests"
    mkdir -p "$logdir"
    trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
    dev_app_variables "$db"
    export SPIN_VARIABLE_DB_NAME="$db" SPIN_VARIABLE_REDIS_DB=2
    # Many registrations and logins from one address in a few seconds.
    export SPIN_VARIABLE_AUTH_RATE_LIMIT_PER_MINUTE=10000
    export SPIN_VARIABLE_CONSOLE_WEBSOCKET_URL="ws://$ws/ws"
    redis-cli -h "$RH_REDIS_HOST" -p "$RH_REDIS_PORT" -n 2 FLUSHDB >/dev/null
    RH_JWT_SECRET="$SPIN_VARIABLE_JWT_SECRET" RH_SIDECAR_DATABASE_URL="$(sidecar_database_url "$db")" \
      "$RH_ROOT/target/release/rh-sidecar" \
      --listen "$ws" --redis-url "$(sidecar_redis_url)" >"$logdir/sidecar.log" 2>&1 &
    pids+=($!)
    "$RH_ROOT/target/release/rh-runtime" up --from "$RH_ROOT/spin.toml" --listen "$api" \
      --runtime-config-file "$RH_ROOT/runtime-config.toml" >"$logdir/runtime.log" 2>&1 &
    pids+=($!)
    # The worker (spin-worker.toml's Redis triggers: the queue tick among them), as
    # production runs it beside the API; without it no match ever forms.
    "$RH_ROOT/target/release/rh-runtime" up --from "$RH_ROOT/spin-worker.toml" \
      --runtime-config-file "$RH_ROOT/runtime-config.toml" >"$logdir/worker.log" 2>&1 &
    pids+=($!)
    wait_for_port "${api%:*}" "${api##*:}" rh-runtime 120
    wait_for_port "${ws%:*}" "${ws##*:}" rh-sidecar 30
    export RH_TEST_API_URL="http://$api" RH_TEST_WS_URL="ws://$ws/ws"
    export RH_TEST_GAME_SERVER_KEY="$SPIN_VARIABLE_GAME_SERVER_KEY"
    export RH_TEST_MIGRATE_URL="$(db_url "$RH_MIGRATE_USER" "$RH_MIGRATE_PASSWORD" "$db")"
    export RH_MIGRATE_BIN="$RH_ROOT/target/release/rh-migrate"
    local status=0
    log "client tests (node --test, against $RH_TEST_API_URL; logs in target/node-tests/)"
    (cd "$RH_ROOT/clients/typescript" && npm test) || status=1
    log "console tests (Chromium via playwright-core)"
    (cd "$RH_ROOT/console" && npm test) || status=1
    exit "$status"
  )
}
