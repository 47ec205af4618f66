#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CGI benchmark: sockhost's cgi plugin against `python3 -m http.server --cgi`
# and lighttpd mod_cgi, each running bench/cgi/hello.c (compiled) and
# bench/cgi/hello.sh, loaded with wrk in the same run; prints req/s side by
# side. Not run by the tests.
#
#   bench/cgi_bench.sh                 # DURATION=5 s per wrk run
#   DURATION=10 CONNS=32 bench/cgi_bench.sh
#
# Environment (all optional):
#   DURATION=5  THREADS=2  CONNS=16       wrk -d / -t / -c
#   SERVERS="sockhost sockhost-forking python lighttpd"
#   BUILD_DIR=build-bench                 a Release build (made with scripts/setup.sh when
#                                         missing); relative to the repository or absolute
#   SKIP_INSTALL=1                        do not apt-get wrk/lighttpd
#
# Each server runs in its own session (setsid); on exit the script stops
# exactly those process groups and removes its temp dir.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-5}
THREADS=${THREADS:-2}
CONNS=${CONNS:-16}
BUILD_DIR=${BUILD_DIR:-build-bench}
case "$BUILD_DIR" in /*) BUILD="$BUILD_DIR" ;; *) BUILD="$ROOT/$BUILD_DIR" ;; esac
SERVERS=${SERVERS:-"sockhost sockhost-forking python lighttpd"}
SCRIPTS=(hello hello.sh)

BENCH_TAG=cgi-bench
source "$ROOT/bench/lib/common.sh"

install_missing() {
    [ "${SKIP_INSTALL:-0}" = 1 ] && return 0
    local want=()
    command -v wrk >/dev/null || want+=(wrk)
    command -v lighttpd >/dev/null || want+=(lighttpd)
    command -v cc >/dev/null || want+=(gcc)
    command -v curl >/dev/null || want+=(curl)
    [ ${#want[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    log "installing ${want[*]}"
    $sudo timeout 300 apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive $sudo timeout 600 apt-get install -y -qq --no-install-recommends "${want[@]}" \
        >/dev/null 2>&1 || log "could not install ${want[*]}"
}

build() {   # an existing build with the cgi plugin is reused
    [ -x "$BUILD/sockhost" ] && [ -e "$BUILD/plugins/libcgi.so" ] && return 0
    build_sockhost
}


# start_NAME PORT LOG: start in a new session, set CUR_PID.
start_sockhost_model() {
    local model=$1 port=$2 logf=$3 conf="$TMP/sockhost-$1.toml"
    cat >"$conf" <<CONF
[host]
plugins_dir = "$BUILD/plugins"
log_level   = "warning"

[[server]]
name        = "bench"
listen      = "tcp://127.0.0.1:$port"
plugin      = "cgi"
concurrency = "$model"
  [server.options]
  directory = "$DOCROOT"
  max_cgi   = 256
CONF
    setsid "$BUILD/sockhost" --config "$conf" >"$logf" 2>&1 &
    CUR_PID=$!
}
start_sockhost() { start_sockhost_model threading "$@"; }
start_sockhost-forking() { start_sockhost_model forking "$@"; }
start_python() {
    (cd "$DOCROOT" && exec setsid python3 -m http.server --cgi --bind 127.0.0.1 "$1") >"$2" 2>&1 &
    CUR_PID=$!
}
start_lighttpd() {
    local d="$TMP/lighttpd"
    mkdir -p "$d"
    cat >"$d/lighttpd.conf" <<CONF
server.document-root = "$DOCROOT"
server.bind          = "127.0.0.1"
server.port          = $1
server.errorlog      = "$d/error.log"
server.max-fds       = 4096
server.modules      += ( "mod_cgi" )
\$HTTP["url"] =~ "^/cgi-bin/" { cgi.assign = ( "" => "" ) }
CONF
    setsid lighttpd -D -f "$d/lighttpd.conf" >"$2" 2>&1 &
    CUR_PID=$!
}
available() {
    case $1 in
        sockhost|sockhost-forking) [ -x "$BUILD/sockhost" ] ;;
        python) command -v python3 >/dev/null ;;
        lighttpd) command -v lighttpd >/dev/null ;;
        *) return 1 ;;
    esac
}


declare -A RPS=()
run_server() {
    local s=$1 port pid script out
    port=$(free_port)
    "start_$s" "$port" "$TMP/$s.log"
    pid=$CUR_PID
    STARTED_PGIDS+=("$pid")
    if ! wait_ready "$pid" "$port" /cgi-bin/hello; then
        log "$s did not come up:"; tail -n 5 "$TMP/$s.log" >&2
        stop_group "$pid"; return
    fi
    for script in "${SCRIPTS[@]}"; do
        out=$(timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" \
              "http://127.0.0.1:$port/cgi-bin/$script?x=1" 2>&1)
        RPS[$s,$script]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
        # (E:N): socket errors + non-2xx answers (python closes every connection: read errors)
        local errs
        errs=$(awk '/Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } /Non-2xx/ { n += $NF } END { print n + 0 }' <<<"$out")
        [ "$errs" != 0 ] && RPS[$s,$script]="${RPS[$s,$script]} (E:$errs)"
        log "$s $script: ${RPS[$s,$script]:-n/a} req/s"
    done
    stop_group "$pid"
}

main() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockhost-cgi-bench.XXXXXX") || die "mktemp"
    chmod 755 "$TMP"   # as root, python and sockhost run scripts as nobody
    install_missing
    command -v wrk >/dev/null || die "wrk is not installed"
    build
    DOCROOT="$TMP/www"
    mkdir -p "$DOCROOT/cgi-bin"
    cc -O2 -o "$DOCROOT/cgi-bin/hello" "$ROOT/bench/cgi/hello.c" || die "cannot compile hello.c"
    install -m 755 "$ROOT/bench/cgi/hello.sh" "$DOCROOT/cgi-bin/hello.sh"
    chmod -R a+rX "$DOCROOT"
    local s
    for s in $SERVERS; do
        if available "$s"; then run_server "$s"; else log "$s: not available, skipped"; fi
    done
    echo
    echo "CGI req/s, wrk -t$THREADS -c$CONNS -d${DURATION}s, $(nproc) CPUs, keep-alive where the server allows"
    printf '%-18s' server; for s in "${SCRIPTS[@]}"; do printf '%18s' "$s"; done; echo
    for s in $SERVERS; do
        printf '%-18s' "$s"
        for script in "${SCRIPTS[@]}"; do printf '%18s' "${RPS[$s,$script]:-—}"; done
        echo
    done
}

main "$@"
