#!/usr/bin/env bash
# Real servers for the integration tests, on loopback, in throw-away data
# directories.
#
#   ops/services.sh start   Install what is missing, start the three servers
#                           below, wait until each answers, and write their
#                           settings as `export` lines to $PDQ_SERVICES_DIR/env
#                           for the caller to `source`.
#   ops/services.sh stop    Stop what `start` started, and remove the data
#                           directories it made.
#
#   PostgreSQL  127.0.0.1:55432  PDQ_TEST_PG_URL=postgres://pdq:pdq@127.0.0.1:55432/pdq
#   MariaDB     127.0.0.1:53306  PDQ_TEST_MYSQL_URL=mysql://pdq:pdq@127.0.0.1:53306/pdq
#   S3 (moto)   127.0.0.1:59000  PDQ_TEST_S3_ENDPOINT=http://127.0.0.1:59000
#                                AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
#                                AWS_REGION=us-east-1 (and AWS_DEFAULT_REGION)
#
# A server that already answers on its port is reused: it is not started a
# second time, and `stop` leaves it alone. What `start` started is recorded as
# <service>.pid in the services directory (PDQ_SERVICES_DIR, default
# /tmp/pdq-services), beside each service's data directory and log; `stop`
# acts on those pid files only, and checks that each pid is still the process
# it started before signalling it. Logs (*.log) are kept for a post-mortem.
#
# The role/user pdq (password pdq) owns the database pdq; it may also create
# databases (PostgreSQL CREATEDB; MariaDB ALL PRIVILEGES ON *.*), so that a test
# can work in a database of its own. Each server gets $PDQ_SERVICES_WAIT
# seconds (default 60) to answer, or start fails naming the server and its log.
#
# Installing uses apt-get (PostgreSQL, MariaDB) and pip (moto[server]), as
# root, with the packages' own system services kept from starting.
set -euo pipefail

DIR="${PDQ_SERVICES_DIR:-/tmp/pdq-services}"
HOST=127.0.0.1
PG_PORT=55432
MY_PORT=53306
S3_PORT=59000
WAIT_SECONDS="${PDQ_SERVICES_WAIT:-60}" # seconds for each server to answer
STOP_SECONDS=30

PG_DATA="$DIR/postgres"
MY_DATA="$DIR/mariadb"
MY_SOCK="$MY_DATA/mysqld.sock"
MY_BIN=/usr/sbin/mariadbd

say() { printf '%s\n' "$*"; }
note() { printf 'services.sh: %s\n' "$*" >&2; }
die() {
  note "error: $*"
  exit 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }

# Print the last lines of a log to stderr, then fail naming the service.
fail_with_log() { # service log message
  if [ -s "$2" ]; then
    note "last lines of $2:"
    tail -n 20 "$2" | sed 's/^/    /' >&2
  fi
  die "$1: $3 (log: $2)"
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

port_open() { timeout 2 bash -c ": </dev/tcp/$HOST/$1" 2>/dev/null; }

# A process is alive if it exists and is not a zombie.
alive() {
  local state
  [ -r "/proc/$1/stat" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1) || return 1
  [ "$state" != Z ]
}

# The pid recorded for a service, if that process still runs and its command
# line still contains the given text (so a recycled pid is never signalled).
recorded_pid() { # service text
  local pid
  [ -s "$DIR/$1.pid" ] || return 1
  pid=$(<"$DIR/$1.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  printf '%s\n' "$pid"
}

# Run a command as a system user when we are root (servers refuse to run as
# root); as ourselves otherwise.
as_user() { # user command...
  local user=$1
  shift
  if is_root; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# Give a directory or file to a system user when we are root.
give_to() { # user path...
  local user=$1
  shift
  if is_root; then chown "$user:" "$@"; fi
}

# Poll a check until it succeeds, the started process dies, or time runs out.
wait_ready() { # service port log(or "" for a server not ours) pid(or "") check...
  local service=$1 port=$2 log=$3 pid=$4 deadline=$((SECONDS + WAIT_SECONDS))
  shift 4
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! alive "$pid"; then
      fail_with_log "$service" "$log" "the server exited before answering"
    fi
    if ((SECONDS >= deadline)); then
      if [ -z "$log" ]; then
        die "$service: something listens on $HOST:$port (not started by services.sh) but did not answer as $service within ${WAIT_SECONDS}s"
      fi
      fail_with_log "$service" "$log" "no answer on $HOST:$port within ${WAIT_SECONDS}s"
    fi
    sleep 0.2
  done
}

# pids listening on a TCP port (needs root to see other users' processes).
listeners() { # port
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true
}

stop_pid() { # pid signal
  local pid=$1 i
  kill "-$2" "$pid" 2>/dev/null || return 0
  for ((i = 0; i < STOP_SECONDS * 10; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  note "pid $pid did not stop within ${STOP_SECONDS}s of SIG$2; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
}

# apt-get install, with a policy-rc.d that keeps package scripts from starting
# system-wide servers; `apt-get update` only if the first try fails. Any server
# the install nevertheless started on one of the given default ports is stopped.
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_OURS=0
cleanup_policy() { if [ "$POLICY_RC_OURS" = 1 ]; then rm -f "$POLICY_RC"; fi; }
trap cleanup_policy EXIT

apt_install() { # "default ports" package...
  local ports=$1 log="$DIR/apt.log" rc=0 port pid before
  shift
  is_root || die "$* is missing, and installing it needs root (apt-get install $*)"
  declare -A was_listening=()
  for port in $ports; do
    for pid in $(listeners "$port"); do was_listening[$pid]=1; done
  done
  if [ ! -e "$POLICY_RC" ]; then
    printf '#!/bin/sh\n# ops/services.sh: no service starts during its apt-get install\nexit 101\n' >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    POLICY_RC_OURS=1
  fi
  note "installing $* with apt-get (log: $log)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q "$@" >>"$log" 2>&1 9>&-; then
    { apt-get update -q && apt-get install -y -q "$@"; } >>"$log" 2>&1 9>&- || rc=$?
  fi
  cleanup_policy
  POLICY_RC_OURS=0
  [ "$rc" -eq 0 ] || fail_with_log "apt-get" "$log" "installing $* failed"
  for port in $ports; do
    for pid in $(listeners "$port"); do
      before=${was_listening[$pid]:-}
      if [ -z "$before" ]; then
        note "stopping the system server (pid $pid) that installing $* started on port $port"
        stop_pid "$pid" TERM
      fi
    done
  done
}

reuse_line() { # service port
  say "$1: reusing the server already answering on $HOST:$2 (not started here; stop leaves it running)"
}

# ---------------------------------------------------------------- PostgreSQL

pg_bin() {
  local dirs=(/usr/lib/postgresql/*/bin/initdb)
  [ -x "${dirs[-1]}" ] || return 1
  # The glob sorts as text (15 before 9): pick the highest major version.
  printf '%s\n' "${dirs[@]}" | sort -V | tail -n1 | xargs dirname
}

pg_ready() {
  local bin
  if bin=$(pg_bin); then
    "$bin/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 2
  else
    port_open "$PG_PORT"
  fi
}

start_postgres() {
  local t0 log="$DIR/postgres.log" pid bin
  t0=$(now)
  if pid=$(recorded_pid postgres "$PG_DATA"); then
    wait_ready postgres "$PG_PORT" "$log" "$pid" pg_ready
    say "postgres: already running, started earlier by services.sh (pid $pid)"
    return
  fi
  rm -f "$DIR/postgres.pid"
  if port_open "$PG_PORT"; then
    wait_ready postgres "$PG_PORT" "" "" pg_ready
    reuse_line postgres "$PG_PORT"
    return
  fi
  if ! bin=$(pg_bin); then
    apt_install 5432 postgresql
    bin=$(pg_bin) || die "postgres: no initdb under /usr/lib/postgresql/*/bin after installing postgresql"
  fi

  rm -rf "$PG_DATA"
  mkdir -m 700 "$PG_DATA"
  : >"$log"
  give_to postgres "$PG_DATA" "$log"
  as_user postgres test -w "$PG_DATA" ||
    die "postgres: the user postgres cannot write $PG_DATA; set PDQ_SERVICES_DIR to a directory it can reach"
  as_user postgres "$bin/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >>"$log" 2>&1 ||
    fail_with_log postgres "$log" "initdb failed"
  # Throw-away data: no durability needed.
  cat >>"$PG_DATA/postgresql.conf" <<EOF

# ops/services.sh
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_DATA'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  local rc=0
  # shellcheck disable=SC2094 # pg_ctl -l and the redirect both only append
  as_user postgres "$bin/pg_ctl" -D "$PG_DATA" -l "$log" -w -t "$WAIT_SECONDS" start >/dev/null 2>>"$log" 9>&- || rc=$?
  # Record the postmaster even if pg_ctl gave up, so that stop can end it.
  if [ -s "$PG_DATA/postmaster.pid" ]; then
    head -n1 "$PG_DATA/postmaster.pid" >"$DIR/postgres.pid"
  fi
  [ "$rc" -eq 0 ] || fail_with_log postgres "$log" "pg_ctl start failed or timed out"
  pid=$(<"$DIR/postgres.pid")
  wait_ready postgres "$PG_PORT" "$log" "$pid" pg_ready
  "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DATA" -p "$PG_PORT" -U postgres -d postgres \
    >>"$log" 2>&1 <<'EOF' || fail_with_log postgres "$log" "creating role and database pdq failed"
CREATE ROLE pdq LOGIN CREATEDB PASSWORD 'pdq';
CREATE DATABASE pdq OWNER pdq;
EOF
  say "postgres: started $("$bin/postgres" --version | awk '{print $3}') on $HOST:$PG_PORT in $(since "$t0") (pid $pid, data $PG_DATA, log $log)"
}

# ------------------------------------------------------------------- MariaDB

mariadb_ready() {
  if command -v mariadb-admin >/dev/null; then
    # Exits 0 whenever the server answers, even with "access denied".
    mariadb-admin --no-defaults --protocol=tcp -h "$HOST" -P "$MY_PORT" \
      --connect-timeout=2 -u ping-check ping
  else
    port_open "$MY_PORT"
  fi
}

start_mariadb() {
  local t0 log="$DIR/mariadb.log" pid
  t0=$(now)
  if pid=$(recorded_pid mariadb "--datadir=$MY_DATA"); then
    wait_ready mariadb "$MY_PORT" "$log" "$pid" mariadb_ready
    say "mariadb: already running, started earlier by services.sh (pid $pid)"
    return
  fi
  rm -f "$DIR/mariadb.pid"
  if port_open "$MY_PORT"; then
    wait_ready mariadb "$MY_PORT" "" "" mariadb_ready
    reuse_line mariadb "$MY_PORT"
    return
  fi
  if [ ! -x "$MY_BIN" ] || ! command -v mariadb-install-db >/dev/null || ! command -v mariadb >/dev/null; then
    apt_install 3306 mariadb-server
    [ -x "$MY_BIN" ] || die "mariadb: no $MY_BIN after installing mariadb-server"
  fi

  local user_opt=()
  if is_root; then user_opt=(--user=mysql); fi
  rm -rf "$MY_DATA"
  mkdir -m 700 "$MY_DATA"
  : >"$log"
  give_to mysql "$MY_DATA"
  as_user mysql test -w "$MY_DATA" ||
    die "mariadb: the user mysql cannot write $MY_DATA; set PDQ_SERVICES_DIR to a directory it can reach"
  mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$MY_DATA" \
    --auth-root-authentication-method=normal --skip-test-db >>"$log" 2>&1 ||
    fail_with_log mariadb "$log" "mariadb-install-db failed"
  # Errors go to stderr, which is the log; throw-away data: no durability.
  nohup "$MY_BIN" --no-defaults "${user_opt[@]}" --datadir="$MY_DATA" \
    --port="$MY_PORT" --bind-address="$HOST" --socket="$MY_SOCK" \
    --pid-file="$MY_DATA/mariadbd.pid" --skip-name-resolve --skip-log-bin \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --max-connections=200 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    >>"$log" 2>&1 </dev/null 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$DIR/mariadb.pid"
  wait_ready mariadb "$MY_PORT" "$log" "$pid" mariadb_ready
  # root@localhost over the socket; then a real user with a password.
  mariadb --no-defaults --socket="$MY_SOCK" -u root >>"$log" 2>&1 <<'EOF' ||
CREATE USER IF NOT EXISTS 'pdq'@'%' IDENTIFIED BY 'pdq';
CREATE USER IF NOT EXISTS 'pdq'@'127.0.0.1' IDENTIFIED BY 'pdq';
CREATE USER IF NOT EXISTS 'pdq'@'localhost' IDENTIFIED BY 'pdq';
CREATE DATABASE IF NOT EXISTS pdq;
GRANT ALL PRIVILEGES ON *.* TO 'pdq'@'%';
GRANT ALL PRIVILEGES ON *.* TO 'pdq'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'pdq'@'localhost';
EOF
    fail_with_log mariadb "$log" "creating user and database pdq failed"
  say "mariadb: started $("$MY_BIN" --version | awk '{print $3}') on $HOST:$MY_PORT in $(since "$t0") (pid $pid, data $MY_DATA, log $log)"
}

# ------------------------------------------------------------------ S3 (moto)

s3_ready() { curl -s -o /dev/null -m 2 "http://$HOST:$S3_PORT/"; }

S3_CMD="moto.server -H $HOST -p $S3_PORT"

start_s3() {
  local t0 log="$DIR/s3.log" pid
  t0=$(now)
  if pid=$(recorded_pid s3 "$S3_CMD"); then
    wait_ready s3 "$S3_PORT" "$log" "$pid" s3_ready
    say "s3: already running, started earlier by services.sh (pid $pid)"
    return
  fi
  rm -f "$DIR/s3.pid"
  if port_open "$S3_PORT"; then
    wait_ready s3 "$S3_PORT" "" "" s3_ready
    reuse_line s3 "$S3_PORT"
    return
  fi
  if ! python3 -c 'import moto.server' >/dev/null 2>&1; then
    note "installing moto[server] with pip (log: $DIR/pip.log)"
    python3 -m pip install -q 'moto[server]' >>"$DIR/pip.log" 2>&1 ||
      fail_with_log s3 "$DIR/pip.log" "pip install 'moto[server]' failed"
  fi
  : >"$log"
  # moto keeps its buckets in memory: no data directory.
  # shellcheck disable=SC2086 # S3_CMD is split on purpose
  nohup python3 -m $S3_CMD >>"$log" 2>&1 </dev/null 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$DIR/s3.pid"
  wait_ready s3 "$S3_PORT" "$log" "$pid" s3_ready
  say "s3: started moto $(python3 -c 'import moto; print(moto.__version__)') on $HOST:$S3_PORT in $(since "$t0") (pid $pid, log $log)"
}

# ---------------------------------------------------------------------- main

write_env() {
  cat >"$DIR/env.tmp" <<EOF
# Written by ops/services.sh start; source it.
export PDQ_TEST_PG_URL=postgres://pdq:pdq@$HOST:$PG_PORT/pdq
export PDQ_TEST_MYSQL_URL=mysql://pdq:pdq@$HOST:$MY_PORT/pdq
export PDQ_TEST_S3_ENDPOINT=http://$HOST:$S3_PORT
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
EOF
  mv "$DIR/env.tmp" "$DIR/env"
}

stop_service() { # service cmdline-text signal data-dir(or "")
  local service=$1 pid
  if [ ! -e "$DIR/$service.pid" ]; then
    say "$service: not started by services.sh; nothing to stop"
    return
  fi
  if pid=$(recorded_pid "$service" "$2"); then
    stop_pid "$pid" "$3"
    if alive "$pid"; then
      note "$service: pid $pid is still running; keeping its pid file"
      return 1
    fi
    say "$service: stopped (pid $pid)"
  else
    say "$service: was no longer running"
  fi
  if [ -n "$4" ]; then rm -rf "$4"; fi
  rm -f "$DIR/$service.pid"
}

# One start or stop at a time. Everything started below gets 9>&-, so that no
# server inherits (and so holds) the lock.
lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock -w 120 9 || die "another ops/services.sh holds $DIR/.lock"
}

main() {
  case "${1:-}" in
    start)
      lock
      start_postgres
      start_mariadb
      start_s3
      write_env
      ;;
    stop)
      [ -d "$DIR" ] || exit 0
      lock
      local rc=0
      # PostgreSQL: SIGINT is its fast shutdown.
      stop_service postgres "$PG_DATA" INT "$PG_DATA" || rc=1
      stop_service mariadb "--datadir=$MY_DATA" TERM "$MY_DATA" || rc=1
      stop_service s3 "$S3_CMD" TERM "" || rc=1
      rm -f "$DIR/env"
      return "$rc"
      ;;
    *)
      printf 'usage: %s start|stop\n' "$0" >&2
      exit 2
      ;;
  esac
}

main "$@"
