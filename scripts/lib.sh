# shellcheck shell=bash
# Shared helpers for scripts/test and scripts/demo. Source it; do not run it.
#
# Everything here works from a plain clone of the repository: PostgreSQL 15 and the
# build dependencies come from Debian apt, the Tansu broker (Kafka wire protocol) is
# built once from crates.io into the cache directory, the Pagila sample database is
# in datasets/pagila.

SLUICE_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SLUICE_APT_PACKAGES=(postgresql-15 postgresql-client-15 cmake libcurl4-openssl-dev openssl stunnel4
    build-essential pkg-config libssl-dev python3-venv curl patch)
# The console's browser tests drive Debian's headless Chromium over WebDriver.
SLUICE_BROWSER_PACKAGES=(chromium chromium-driver)
SLUICE_TANSU_VERSION=0.6.0
SLUICE_S3S_VERSION=0.14.1
SLUICE_PYARROW_VERSION=21.0.0
SLUICE_FASTAVRO_VERSION=1.12.1
SLUICE_CRAMJAM_VERSION=2.14.0 # fastavro reads snappy-compressed Avro only with it

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

# Tansu 0.6.0 with one patch to its storage (scripts/tansu/): an idempotent producer that bumps
# its own epoch after a broker restart (KIP-360) made the SQLite storage panic.
SLUICE_TANSU_PATCH="$SLUICE_REPO_ROOT/scripts/tansu/tansu-storage-$SLUICE_TANSU_VERSION.patch"
SLUICE_TANSU_SHA256=4fdd85473ec265140488cf8d55e82b844f5c051c8916fabdd4a71156ac053f6d
SLUICE_TANSU_STORAGE_SHA256=720d2ed8e6010c70f7f06e5af5a7274ebbf6e42fdcd9e46de542b10dc4d2f35d

# The build directory is named after the patch, so a changed patch builds again.
_tansu_root() {
    printf '%s/tansu-%s-%s\n' "$(sluice_cache_dir)" "$SLUICE_TANSU_VERSION" \
        "$(sha256sum "$SLUICE_TANSU_PATCH" | cut -c1-12)"
}
_tansu_bin() { printf '%s\n' "$(_tansu_root)/bin/tansu"; }

# _crate_fetch NAME SHA256 DIR: unpacks NAME-$SLUICE_TANSU_VERSION from crates.io into DIR.
_crate_fetch() {
    local name="$1" sum="$2" dir="$3" file
    file="$dir/$name-$SLUICE_TANSU_VERSION.crate"
    curl -sSfL -o "$file" \
        "https://static.crates.io/crates/$name/$name-$SLUICE_TANSU_VERSION.crate" ||
        sluice_die "tansu_ensure: downloading $name $SLUICE_TANSU_VERSION from crates.io failed"
    printf '%s  %s\n' "$sum" "$file" | sha256sum -c --quiet - ||
        sluice_die "tansu_ensure: $file does not have the expected checksum"
    tar -xzf "$file" -C "$dir"
}

# tansu_ensure: builds the patched Tansu broker once into the cache (10-15 min cold).
tansu_ensure() {
    local cache root bin lock
    cache="$(sluice_cache_dir)"
    root="$(_tansu_root)"
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
        sluice_log "building Tansu $SLUICE_TANSU_VERSION (patched) into $root (one time, ~10-15 min)"
        rm -rf "$root" && mkdir -p "$root/src" || exit 1
        _crate_fetch tansu "$SLUICE_TANSU_SHA256" "$root/src"
        _crate_fetch tansu-storage "$SLUICE_TANSU_STORAGE_SHA256" "$root/src"
        patch -s -p1 -d "$root/src/tansu-storage-$SLUICE_TANSU_VERSION" <"$SLUICE_TANSU_PATCH" || exit 1
        printf '\n[patch.crates-io]\ntansu-storage = { path = "../tansu-storage-%s" }\n' \
            "$SLUICE_TANSU_VERSION" >>"$root/src/tansu-$SLUICE_TANSU_VERSION/Cargo.toml"
        # Tansu's own Cargo.lock pins everything else: resolving once changes only the patched
        # crate's entry, and the build then keeps to that lock.
        (cd "$root/src/tansu-$SLUICE_TANSU_VERSION" && cargo metadata --format-version 1 >/dev/null) &&
            cargo install --path "$root/src/tansu-$SLUICE_TANSU_VERSION" --locked \
                --no-default-features --features libsql --root "$root" \
                --target-dir "$root/target" >&2 &&
            rm -rf "$root/target"
    ) || sluice_die "tansu_ensure: building Tansu failed"
    [[ -x "$bin" ]] || sluice_die "tansu_ensure: $bin missing after the build"
}

_s3s_bin() { printf '%s\n' "$(sluice_cache_dir)/s3s-fs/bin/s3s-fs"; }

# s3s_ensure: builds the s3s-fs S3-compatible server once into the cache (~3 min cold).
s3s_ensure() {
    local cache bin lock
    cache="$(sluice_cache_dir)"
    bin="$(_s3s_bin)"
    [[ -x "$bin" ]] && return 0
    command -v cargo >/dev/null 2>&1 || sluice_die "s3s_ensure: cargo not found"
    mkdir -p "$cache"
    lock="$cache/s3s-fs.lock"
    (
        exec 9>"$lock"
        if ! flock -n 9; then
            sluice_log "waiting for another s3s-fs build (lock $lock)"
            flock 9
        fi
        [[ -x "$bin" ]] && exit 0
        sluice_log "building s3s-fs $SLUICE_S3S_VERSION into $cache/s3s-fs (one time, ~3 min)"
        cargo install "s3s-fs@$SLUICE_S3S_VERSION" --locked --features binary \
            --root "$cache/s3s-fs" >&2
    ) || sluice_die "s3s_ensure: building s3s-fs failed"
    [[ -x "$bin" ]] || sluice_die "s3s_ensure: $bin missing after the build"
}

# s3s_start DIR PORT ACCESS_KEY SECRET_KEY: S3-compatible server on 127.0.0.1:PORT serving
# the buckets under DIR/data (one directory each), log in DIR/s3s.log, pid in DIR/s3s.pid.
s3s_start() {
    local dir="$1" port="$2" access="$3" secret="$4" bin pid i
    bin="$(_s3s_bin)"
    [[ -x "$bin" ]] || sluice_die "s3s_start: $bin not found (run s3s_ensure)"
    mkdir -p "$dir/data"
    "$bin" --host 127.0.0.1 --port "$port" --access-key "$access" --secret-key "$secret" \
        "$dir/data" </dev/null >"$dir/s3s.log" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$dir/s3s.pid"
    for ((i = 0; i < 120; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$dir/s3s.log" >&2 || true
            rm -f "$dir/s3s.pid"
            sluice_die "s3s_start: s3s-fs exited during startup (see $dir/s3s.log)"
        fi
        if _port_open "$port"; then
            sleep 0.2 # a server that lost a race for the port exits right away
            kill -0 "$pid" 2>/dev/null && return 0
            continue
        fi
        sleep 0.25
    done
    tail -n 20 "$dir/s3s.log" >&2 || true
    s3s_stop "$dir"
    sluice_die "s3s_start: s3s-fs did not open 127.0.0.1:$port within 30 s (see $dir/s3s.log)"
}

# s3s_stop DIR: stops the server whose pid is in DIR/s3s.pid (and nothing else).
s3s_stop() {
    local pidfile="$1/s3s.pid" pid i
    [[ -f "$pidfile" ]] || return 0
    pid="$(<"$pidfile")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q s3s-fs; then
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

# python_ensure: a virtualenv in the cache with the independent readers the S3 tests use
# (pyarrow for Parquet, fastavro for Avro); prints its python.
python_ensure() {
    local cache venv lock
    cache="$(sluice_cache_dir)"
    venv="$cache/pyenv"
    if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import pyarrow, fastavro, cramjam' 2>/dev/null; then
        printf '%s\n' "$venv/bin/python"
        return 0
    fi
    mkdir -p "$cache"
    lock="$cache/pyenv.lock"
    (
        exec 9>"$lock"
        flock 9
        if ! "$venv/bin/python" -c 'import pyarrow, fastavro, cramjam' 2>/dev/null; then
            sluice_log "installing pyarrow and fastavro into $venv (one time)"
            python3 -m venv "$venv" >&2 || exit 1
            "$venv/bin/pip" install -q "pyarrow==$SLUICE_PYARROW_VERSION" \
                "fastavro==$SLUICE_FASTAVRO_VERSION" "cramjam==$SLUICE_CRAMJAM_VERSION" >&2 || exit 1
        fi
    ) || sluice_die "python_ensure: installing pyarrow/fastavro failed (python3-venv installed?)"
    printf '%s\n' "$venv/bin/python"
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
    # shellcheck disable=SC2086 # TANSU_EXTRA_ARGS is a list of flags
    (cd "$dir" && exec "$bin" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://${TANSU_ADVERTISED:-127.0.0.1:$port}" \
        --storage-engine sqlite://tansu.db --silent ${TANSU_EXTRA_ARGS:-}) </dev/null >"$dir/tansu.log" 2>&1 &
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

# tls_make_certs DIR: a test CA, a server certificate for localhost, a second CA that
# signed nothing the servers use, and client certificates (CN = user name) with their keys as
# PEM, as pgjdbc's DER .pk8, and as an encrypted .pk8 (password "keypass").
tls_make_certs() {
    local dir="$1"
    [[ -f "$dir/done" ]] && return 0
    command -v openssl >/dev/null 2>&1 || sluice_die "tls_make_certs: openssl not found"
    mkdir -p "$dir"
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=sluice test CA" \
            -keyout ca.key -out ca.crt >/dev/null 2>&1
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=other CA" \
            -keyout other-ca.key -out other-ca.crt >/dev/null 2>&1
        # DNS:localhost only: connecting to 127.0.0.1 is the wrong host name for verify-full.
        printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr >/dev/null 2>&1
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
            -extfile server.ext -out server.crt >/dev/null 2>&1
        local user
        for user in sluice_mtls kafka_client; do
            printf 'extendedKeyUsage=clientAuth\n' >client.ext
            openssl req -newkey rsa:2048 -nodes -subj "/CN=$user" -keyout "$user.key" -out "$user.csr" >/dev/null 2>&1
            openssl x509 -req -in "$user.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
                -extfile client.ext -out "$user.crt" >/dev/null 2>&1
            openssl pkcs8 -topk8 -nocrypt -in "$user.key" -outform DER -out "$user.pk8"
            openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:keypass -in "$user.key" -outform DER -out "$user.enc.pk8"
        done
        chmod 600 ./*.key ./*.pk8
        touch done
    ) || sluice_die "tls_make_certs: openssl failed in $dir"
}

# pg_start_tls DIR PORT CERTDIR: a PostgreSQL 15 cluster that accepts only TLS from
# 127.0.0.1 (hostnossl ... reject), SCRAM passwords, a role sluice_tls (password) and a role
# sluice_mtls that must also present a client certificate (clientcert=verify-full).
pg_start_tls() {
    local dir="$1" port="$2" certs="$3" data
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    data="$dir/data"
    local fresh=0
    [[ -f "$data/PG_VERSION" ]] || fresh=1
    SLUICE_PG_WAL_LEVEL=logical pg_start "$dir" "$port" || return 1
    if ((fresh)); then
        cp "$certs/server.crt" "$certs/server.key" "$certs/ca.crt" "$data/"
        if ((EUID == 0)); then chown postgres: "$data/server.crt" "$data/server.key" "$data/ca.crt"; fi
        chmod 600 "$data/server.key"
        cat >>"$data/postgresql.conf" <<EOC
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_ca_file = 'ca.crt'
password_encryption = 'scram-sha-256'
EOC
        _pg_psql "$port" postgres >/dev/null <<'EOS'
SET password_encryption = 'scram-sha-256';
CREATE ROLE sluice_tls LOGIN REPLICATION SUPERUSER PASSWORD 'tlspass';
CREATE ROLE sluice_mtls LOGIN REPLICATION SUPERUSER PASSWORD 'mtlspass';
EOS
        cat >"$data/pg_hba.conf" <<'EOH'
# TYPE     DATABASE     USER         ADDRESS        METHOD
local      all          all                         trust
local      replication  all                         trust
hostssl    all          sluice_mtls  127.0.0.1/32   scram-sha-256 clientcert=verify-full
hostssl    replication  sluice_mtls  127.0.0.1/32   scram-sha-256 clientcert=verify-full
hostssl    all          all          127.0.0.1/32   scram-sha-256
hostssl    replication  all          127.0.0.1/32   scram-sha-256
hostnossl  all          all          127.0.0.1/32   reject
hostnossl  replication  all          127.0.0.1/32   reject
EOH
        local bin
        bin="$(pg_bin)"
        _pg_as_owner "$bin/pg_ctl" restart -w -t 60 -D "$data" -l "$dir/postgres.log" >/dev/null ||
            sluice_die "pg_start_tls: restart with ssl=on failed (see $dir/postgres.log)"
    fi
}

# tansu_start_sasl DIR PORT: a Tansu broker that requires SASL/SCRAM, with users alice
# (SCRAM-SHA-256, password alicepw) and bob (SCRAM-SHA-512, password bobpw). Users are made
# through the broker before authentication is switched on (its storage keeps them).
tansu_start_sasl() {
    local dir="$1" port="$2" bin
    bin="$(_tansu_bin)"
    tansu_start "$dir" "$port"
    "$bin" user create --broker "tcp://127.0.0.1:$port" --mechanism scram256 alice alicepw >/dev/null 2>&1 &&
        "$bin" user create --broker "tcp://127.0.0.1:$port" --mechanism scram512 bob bobpw >/dev/null 2>&1 ||
        sluice_die "tansu_start_sasl: cannot create the SCRAM users"
    tansu_stop "$dir"
    TANSU_EXTRA_ARGS="--authentication" tansu_start "$dir" "$port"
}

# tls_broker_start DIR PORT TLS_PORT CERTDIR REQUIRE_CERT: a Tansu broker on PORT that
# advertises localhost:TLS_PORT, behind stunnel terminating TLS on TLS_PORT with the test
# server certificate (REQUIRE_CERT=yes: clients must present a certificate of the test CA).
tls_broker_start() {
    local dir="$1" port="$2" tls_port="$3" certs="$4" require="$5"
    mkdir -p "$dir"
    TANSU_ADVERTISED="localhost:$tls_port" tansu_start "$dir" "$port"
    stunnel_start "$dir" "$tls_port" "$port" "$certs" "$require"
}

# stunnel_start DIR TLS_PORT PORT CERTS REQUIRE_CLIENT_CERT(yes|no): TLS on TLS_PORT in front
# of 127.0.0.1:PORT with CERTS/server.crt; stopped by tls_broker_stop DIR.
stunnel_start() {
    local dir="$1" tls_port="$2" port="$3" certs="$4" require="$5" i
    command -v stunnel4 >/dev/null 2>&1 || sluice_die "stunnel_start: stunnel4 not found (apt-get install stunnel4)"
    mkdir -p "$dir"
    cat >"$dir/stunnel.conf" <<EOC
foreground = yes
pid =
debug = 3
[tls]
accept = 127.0.0.1:$tls_port
connect = 127.0.0.1:$port
cert = $certs/server.crt
key = $certs/server.key
EOC
    if [[ "$require" == yes ]]; then
        printf 'CAfile = %s\nverifyChain = yes\nrequireCert = yes\n' "$certs/ca.crt" >>"$dir/stunnel.conf"
    fi
    stunnel4 "$dir/stunnel.conf" </dev/null >"$dir/stunnel.log" 2>&1 &
    printf '%s\n' "$!" >"$dir/stunnel.pid"
    for ((i = 0; i < 100; i++)); do
        _port_open "$tls_port" && return 0
        sleep 0.1
    done
    sluice_die "stunnel_start: stunnel did not listen on $tls_port (see $dir/stunnel.log)"
}

# tls_broker_stop DIR: stops what tls_broker_start started in DIR.
tls_broker_stop() {
    local dir="$1" pid
    if [[ -f "$dir/stunnel.pid" ]]; then
        pid="$(<"$dir/stunnel.pid")"
        kill "$pid" 2>/dev/null || true
        rm -f "$dir/stunnel.pid"
    fi
    tansu_stop "$dir"
}
