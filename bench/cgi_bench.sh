#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CGI benchmark: sockhost's cgi plugin against `python3 -m http.server --cgi`
# and lighttpd mod_cgi, each running bench/cgi/hello.c (compiled) and
# bench/cgi/hello.sh, loaded with wrk in the same run; prints req/s side by
# side and writes the report to RESULTS. Not run by the tests.
#
#   bench/cgi_bench.sh                 # DURATION=5 s per wrk run
#   DURATION=10 CONNS=32 bench/cgi_bench.sh
#
# Environment (all optional):
#   DURATION=5  THREADS=2  CONNS=16       wrk -d / -t / -c
#   SERVERS="sockhost sockhost-forking python lighttpd"
#   BUILD_DIR=build-bench                 a Release build (made with scripts/setup.sh when
#                                         missing); relative to the repository or absolute
#   SKIP_INSTALL=1                        do not apt-get wrk/lighttpd/gcc/curl
#   RESULTS=bench/results/cgi.md          where the report goes ("" = don't write)
#
# Each server runs in its own session (setsid); on exit the script stops
# exactly those process groups and removes its temp dir.
set -uo pipefail

BENCH_TAG=cgi-bench
source "$(dirname "$0")/lib/common.sh"   # ROOT, BENCH, ...
source "$BENCH/lib/peers.sh"

CONNS=${CONNS:-16}
SERVERS=${SERVERS:-"sockhost sockhost-forking python lighttpd"}
RESULTS=${RESULTS-$BENCH/results/cgi.md}
SCRIPTS=(hello hello.sh)

build() {   # an existing build with the cgi plugin is reused
    [ -x "$BUILD/sockhost" ] && [ -e "$BUILD/plugins/libcgi.so" ] && return 0
    build_sockhost
}

start_server() {   # start_server NAME PORT LOG (bench/lib/peers.sh starts them)
    local port=$2 logf=$3
    case $1 in
        sockhost) start_cgi_sockhost threading "$port" "$logf" ;;
        sockhost-forking) start_cgi_sockhost forking "$port" "$logf" ;;
        python) start_python "$port" "$logf" --cgi ;;
        lighttpd)
            start_lighttpd "$port" "$logf" "server.max-fds       = 4096" 'server.modules      += ( "mod_cgi" )' \
                '$HTTP["url"] =~ "^/cgi-bin/" { cgi.assign = ( "" => "" ) }' ;;
        *) return 1 ;;
    esac
}
start_cgi_sockhost() {   # start_cgi_sockhost MODEL PORT LOG
    local conf="$TMP/sockhost-$1.toml"
    {
        sockhost_conf_host ""
        sockhost_conf_server bench "tcp://127.0.0.1:$2" cgi "$1" "" "directory = \"$DOCROOT\"" "max_cgi   = 256"
    } >"$conf"
    start_sockhost "$conf" "$3"
}

declare -A RPS=()
run_server() {
    local s=$1 port script out rps errs non2xx
    port=$(free_port)
    launch "$s" "$port" "$TMP/$s.log" wait_ready "$port" /cgi-bin/hello || return
    for script in "${SCRIPTS[@]}"; do
        out="$TMP/wrk-$s-$script.txt"
        wrk_to "$out" -c"$CONNS" "http://127.0.0.1:$port/cgi-bin/$script?x=1"
        read -r rps _ _ errs non2xx _ < <(awk -f "$BENCH/lib/parse_wrk.awk" "$out")
        [ "$rps" = - ] && rps=""
        # (E:N): socket errors + non-2xx answers (python closes every connection: read errors)
        [ $((errs + non2xx)) != 0 ] && rps="$rps (E:$((errs + non2xx)))"
        RPS[$s,$script]=$rps
        log "$s $script: ${RPS[$s,$script]:-n/a} req/s"
    done
    stop_group "$CUR_PID"
}

table() {
    local s script
    echo "CGI req/s, wrk -t$THREADS -c$CONNS -d${DURATION}s, $(nproc) CPUs, keep-alive where the server allows"
    printf '%-18s' server; for script in "${SCRIPTS[@]}"; do printf '%18s' "$script"; done; echo
    for s in $SERVERS; do
        printf '%-18s' "$s"
        for script in "${SCRIPTS[@]}"; do printf '%18s' "${RPS[$s,$script]:-—}"; done
        echo
    done
}

main() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockhost-cgi-bench.XXXXXX") || die "mktemp"
    chmod 755 "$TMP"   # as root, python and sockhost run scripts as nobody
    install_missing wrk lighttpd cc:gcc curl
    require wrk
    find_python
    build
    DOCROOT="$TMP/www"
    mkdir -p "$DOCROOT/cgi-bin"
    cc -O2 -o "$DOCROOT/cgi-bin/hello" "$BENCH/cgi/hello.c" || die "cannot compile hello.c"
    install -m 755 "$BENCH/cgi/hello.sh" "$DOCROOT/cgi-bin/hello.sh"
    chmod -R a+rX "$DOCROOT"
    each_available run_server
    local report
    report=$(
        echo "# sockhost CGI benchmark"
        echo
        echo "- date: $(utc_now); machine: $(machine)"
        echo "- sockhost: $(sockhost_desc)"
        echo "- load: \`wrk -t$THREADS -c$CONNS -d${DURATION}s\` per cell, keep-alive where the server allows; scripts: bench/cgi/hello.c (compiled) and bench/cgi/hello.sh"
        echo "- servers: $SERVERS"
        echo
        echo '```'
        table
        echo '```'
    )
    publish_report "$report"
}

main "$@"
