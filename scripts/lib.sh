# shellcheck shell=bash
# Shared helpers for scripts/test and scripts/demo. Source it; do not run it.
#
# Everything here works from a plain clone of the repository: PostgreSQL 15 and the
# build dependencies come from Debian apt, the Tansu broker (Kafka wire protocol) is
# built once from crates.io into the cache directory, the Pagila sample database is
# in datasets/pagila.

SLUICE_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SLUICE_APT_PACKAGES=(postgresql-15 postgresql-client-15 cmake libcurl4-openssl-dev
    build-essential pkg-config libssl-dev)
# The console's browser tests drive Debian's headless Chromium over WebDriver.
SLUICE_BROWSER_PACKAGES=(chromium chromium-driver)
SLUICE_TANSU_VERSION=0.6.0

sluice_log() { printf '[sluice] %s\n' "$*" >&2; }
sluice_die() { printf '[sluice] error: %s\n' "$*" >&2; exit 1; }

sluice_cache_dir() { printf '%s\n' "${SLUICE_CACHE_DIR:-$HOME/.cache/sluice}"; }

# Installs Debian packages, only those missing: the ones given, or by default those the
# build and the tests need.
ensure_apt_packages() {
    local wanted=("$@")
    if ((${#wanted[@]} == 0)); then wanted=("${SLUICE_APT_PACKAGES[@]}"); fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        sluice_log "warning: not a Debian-based system; make sure these (or equivalents) are installed: ${wanted[*]}"
        return 0
    fi
    local pkg missing=()
    for pkg in "${wanted[@]}"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then return 0; fi

    local sudo=()
    if ((EUID != 0)); then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            sluice_die "missing Debian packages and not root (no sudo): run as root: apt-get update && apt-get install -y ${missing[*]}"
        fi
    fi
    sluice_log "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq ||
        sluice_die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
        sluice_die "apt-get install failed for: ${missing[*]}"
}

# Directory holding initdb, pg_ctl, psql... of PostgreSQL 15.
pg_bin() {
    local dir="${SLUICE_PG_BIN:-/usr/lib/postgresql/15/bin}" tool
    for tool in initdb pg_ctl postgres psql pg_isready createdb; do
        [[ -x "$dir/$tool" ]] ||
            sluice_die "PostgreSQL 15 not found ($dir/$tool missing): apt-get install postgresql-15 postgresql-client-15 (or set SLUICE_PG_BIN)"
    done
    printf '%s\n' "$dir"
}

# Runs a command as the owner of the cluster: user postgres when we are root (the
# server refuses to run as root), else the current user. Runs from / so that the
# postgres user never trips over an unreadable working directory.
_pg_as_owner() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

_pg_psql() { # PORT DB ARGS... (TCP, password auth, as postgres)
    local port="$1" db="$2" bin
    shift 2
    bin="$(pg_bin)" || return 1
    PGPASSWORD=postgres "$bin/psql" -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}

# pg_start DIR PORT: a fresh PostgreSQL 15 cluster in DIR/data, listening on
# 127.0.0.1:PORT (unix socket in DIR), logical replication enabled, log in
# DIR/postgres.log. Reuses DIR's cluster if it is already there.
pg_start() {
    local dir="$1" port="$2" bin data log
    bin="$(pg_bin)" || return 1
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    data="$dir/data"
    log="$dir/postgres.log"
    (( ${#dir} + 20 < 100 )) || sluice_die "pg_start: '$dir' is too long for a unix socket path"
    if ((EUID == 0)); then
        id postgres >/dev/null 2>&1 || sluice_die "pg_start: no 'postgres' user (install postgresql-15)"
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" 2>/dev/null ||
            sluice_die "pg_start: user postgres cannot reach '$dir' (a parent directory is not traversable; chmod o+x it)"
    fi

    if [[ -f "$data/PG_VERSION" ]]; then
        if _pg_as_owner "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1; then
            "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" ||
                sluice_die "pg_start: a cluster is running in $data but not on 127.0.0.1:$port"
            sluice_log "reusing PostgreSQL 15 on 127.0.0.1:$port ($data)"
            _pg_create_roles "$port"
            return 0
        fi
        sluice_log "restarting existing PostgreSQL 15 cluster $data on 127.0.0.1:$port"
    else
        local pwfile="$dir/.pwfile"
        printf 'postgres\n' >"$pwfile"
        if ((EUID == 0)); then chown postgres: "$pwfile"; fi
        chmod 600 "$pwfile"
        if ! _pg_as_owner "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
            rm -f "$pwfile"
            tail -n 20 "$dir/initdb.log" >&2
            sluice_die "pg_start: initdb failed (see $dir/initdb.log)"
        fi
        rm -f "$pwfile"
        cat >>"$data/postgresql.conf" <<EOF

# --- sluice test/demo settings ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = ${SLUICE_PG_WAL_LEVEL:-logical}
max_replication_slots = 32
max_wal_senders = 32
fsync = on
shared_buffers = 256MB
EOF
        cat >"$data/pg_hba.conf" <<'EOF'
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
EOF
    fi

    if ((EUID == 0)); then touch "$log" && chown postgres: "$log"; fi
    if ! _pg_as_owner "$bin/pg_ctl" start -w -t 60 -D "$data" -l "$log" -o "-p $port" >/dev/null; then
        tail -n 20 "$log" >&2 || true
        sluice_die "pg_start: PostgreSQL failed to start on 127.0.0.1:$port (see $log)"
    fi
    local i
    for ((i = 0; i < 60; i++)); do
        "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
        sleep 0.5
    done
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" || {
        tail -n 20 "$log" >&2 || true
        sluice_die "pg_start: PostgreSQL on 127.0.0.1:$port is not ready (see $log)"
    }
    _pg_create_roles "$port"
}

_pg_create_roles() { # PORT: a role without REPLICATION, for the error-case tests
    _pg_psql "$1" postgres >/dev/null <<'EOF'
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sluice_norepl') THEN
    CREATE ROLE sluice_norepl LOGIN PASSWORD 'norepl' NOSUPERUSER NOREPLICATION;
  END IF;
END
$$;
EOF
}

# pg_stop DIR: fast shutdown of the cluster pg_start started in DIR (no-op if not running).
pg_stop() {
    local data="$1/data" bin
    [[ -f "$data/postmaster.pid" ]] || return 0
    bin="$(pg_bin)" || return 1
    if ! _pg_as_owner "$bin/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null 2>&1 &&
        _pg_as_owner "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1; then
        sluice_log "warning: could not stop PostgreSQL in $data"
    fi
    return 0
}

# pg_load_pagila PORT DB: creates DB and loads datasets/pagila into it.
pg_load_pagila() {
    local port="$1" db="$2" dir="$SLUICE_REPO_ROOT/datasets/pagila" bin
    bin="$(pg_bin)" || return 1
    [[ -f "$dir/pagila-schema.sql" && -f "$dir/pagila-data.sql" ]] ||
        sluice_die "pg_load_pagila: $dir/pagila-{schema,data}.sql not found"
    PGPASSWORD=postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db" ||
        sluice_die "pg_load_pagila: createdb $db failed"
    PGOPTIONS='-c client_min_messages=warning' \
        _pg_psql "$port" "$db" -f "$dir/pagila-schema.sql" -f "$dir/pagila-data.sql" >/dev/null ||
        sluice_die "pg_load_pagila: loading Pagila into $db failed"
}

_tansu_bin() { printf '%s\n' "$(sluice_cache_dir)/tansu/bin/tansu"; }

# tansu_ensure: builds the Tansu broker once into the cache (10-15 min cold).
tansu_ensure() {
    local cache bin lock
    cache="$(sluice_cache_dir)"
    bin="$(_tansu_bin)"
    [[ -x "$bin" ]] && return 0
    command -v cargo >/dev/null 2>&1 || sluice_die "tansu_ensure: cargo not found"
    mkdir -p "$cache"
    lock="$cache/tansu.lock"
    (
        exec 9>"$lock"
        if ! flock -n 9; then
            sluice_log "waiting for another Tansu build (lock $lock)"
            flock 9
        fi
        [[ -x "$bin" ]] && exit 0
        sluice_log "building Tansu $SLUICE_TANSU_VERSION into $cache/tansu (one time, ~10-15 min)"
        cargo install "tansu@$SLUICE_TANSU_VERSION" --locked --no-default-features \
            --features libsql --root "$cache/tansu" >&2
    ) || sluice_die "tansu_ensure: building Tansu failed"
    [[ -x "$bin" ]] || sluice_die "tansu_ensure: $bin missing after the build"
}

_port_open() { # PORT: does 127.0.0.1:PORT accept TCP connections?
    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    timeout 2 bash -c ': <>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# tansu_start DIR PORT: broker on 127.0.0.1:PORT, data (sqlite) and log in DIR, pid in DIR/tansu.pid.
tansu_start() {
    local dir="$1" port="$2" bin pid i
    bin="$(_tansu_bin)"
    [[ -x "$bin" ]] || sluice_die "tansu_start: $bin not found (run tansu_ensure)"
    mkdir -p "$dir"
    (cd "$dir" && exec "$bin" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine sqlite://tansu.db --silent) </dev/null >"$dir/tansu.log" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$dir/tansu.pid"
    for ((i = 0; i < 120; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$dir/tansu.log" >&2 || true
            rm -f "$dir/tansu.pid"
            sluice_die "tansu_start: Tansu exited during startup (see $dir/tansu.log)"
        fi
        if _port_open "$port"; then
            sleep 0.2 # a broker that lost a race for the port exits right away
            kill -0 "$pid" 2>/dev/null && return 0
            continue
        fi
        sleep 0.25
    done
    tail -n 20 "$dir/tansu.log" >&2 || true
    tansu_stop "$dir"
    sluice_die "tansu_start: Tansu did not open 127.0.0.1:$port within 30 s (see $dir/tansu.log)"
}

# tansu_stop DIR: stops the broker whose pid is in DIR/tansu.pid (and nothing else).
tansu_stop() {
    local pidfile="$1/tansu.pid" pid i
    [[ -f "$pidfile" ]] || return 0
    pid="$(<"$pidfile")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q tansu; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 40; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

# free_port: an unused TCP port on 127.0.0.1.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' && return 0
    fi
    local port i
    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 40000))
        _port_open "$port" || {
            printf '%s\n' "$port"
            return 0
        }
    done
    sluice_die "free_port: no free port found"
}
