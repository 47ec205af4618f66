#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Static-file benchmark: sockhost http_static against python3 -m http.server,
# nginx and lighttpd, all on 127.0.0.1, measured with wrk in the same run.
# See bench/README.md.
#
#   bench/run.sh                    # DURATION=5 s per wrk run, a few minutes in all
#   DURATION=10 bench/run.sh        # steadier numbers
#
# Environment (all optional):
#   DURATION=5        seconds per wrk run
#   THREADS=2 CONNS=64  wrk -t / -c
#   SERVERS="sockhost sockhost-forking python nginx lighttpd"   which columns to run
#   SKIP_INSTALL=1    do not call apt-get
#   SKIP_BUILD=1      reuse build-bench/ as it is
#   BUILD_DIR=build-bench
#   RESULTS=bench/results.md        where the Markdown report goes ("" = don't write)
#   KEEP_RAW=DIR      copy every raw wrk report and server log to DIR
#
# Every step is bounded with `timeout`; the script starts each server in its own
# session (setsid) and, on exit or Ctrl-C, stops exactly those process groups
# and removes its temp dir.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
DURATION=${DURATION:-5}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
BUILD_DIR=${BUILD_DIR:-build-bench}
RESULTS=${RESULTS-$BENCH/results.md}
SERVERS=${SERVERS:-"sockhost-event sockhost sockhost-forking python python-forking nginx nginx-log lighttpd"}
WORKERS=${WORKERS:-1}          # sockhost-event's [host] workers = nginx's worker_processes
PRIMARY=${PRIMARY:-sockhost-event}   # the sockhost column compared with nginx and lighttpd
# Ratio columns "A/B": the event model against the bars, each Python-model
# counterpart against its Python peer.
RATIOS=${RATIOS:-"$PRIMARY:nginx $PRIMARY:lighttpd $PRIMARY:python sockhost:python sockhost-forking:python-forking"}
SIZES=(1k 64k 1m)
# A mode is keepalive or close, optionally with "-N": N connections instead of $CONNS.
read -r -a MODES <<<"${MODES:-keepalive close keepalive-512 close-512}"

case "$DURATION" in ''|*[!0-9]*) echo "run.sh: DURATION must be whole seconds" >&2; exit 2 ;; esac

BENCH_TAG=bench
source "$BENCH/lib/common.sh"

# ---------------------------------------------------------------- install ---
install_missing() {
    [ "${SKIP_INSTALL:-0}" = 1 ] && return 0
    local want=() p
    command -v wrk >/dev/null || want+=(wrk)
    command -v curl >/dev/null || want+=(curl)
    command -v python3 >/dev/null || want+=(python3)
    command -v nginx >/dev/null || want+=(nginx-light)
    command -v lighttpd >/dev/null || want+=(lighttpd)
    [ ${#want[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # Debian's postinst would start nginx/lighttpd as system services on port 80;
    # forbid that for the duration of the install unless a policy already exists.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && made_policy=1
    fi
    log "installing ${want[*]}"
    $sudo timeout 300 apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed (continuing)"
    for p in "${want[@]}"; do
        if ! DEBIAN_FRONTEND=noninteractive $sudo timeout 600 apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1; then
            if [ "$p" = nginx-light ]; then
                DEBIAN_FRONTEND=noninteractive $sudo timeout 600 apt-get install -y -qq --no-install-recommends nginx >/dev/null 2>&1 \
                    || log "could not install nginx"
            else
                log "could not install $p"
            fi
        fi
    done
    [ "$made_policy" = 1 ] && $sudo rm -f "$policy"
    return 0
}

# ------------------------------------------------------------------ build ---

# ---------------------------------------------------------------- helpers ---



# ------------------------------------------------------------ the servers ---
# start_SERVER PORT LOG: starts it in the foreground of a new session (setsid, so
# its whole process group can be stopped), sets CUR_PID.
start_sockhost_model() {
    local model=$1 port=$2 logf=$3 workers_line=""
    local conf="$TMP/sockhost-$model.toml"
    [ "$model" = event ] && workers_line="workers     = $WORKERS"
    cat >"$conf" <<EOF
[host]
plugins_dir = "$ROOT/$BUILD_DIR/plugins"
log_level   = "warning"   # no access log, like nginx's access_log off
$workers_line

[[server]]
name        = "bench"
listen      = "tcp://127.0.0.1:$port"
plugin      = "http_static"
concurrency = "$model"
  [server.options]
  directory = "$DOCROOT"
EOF
    setsid "$ROOT/$BUILD_DIR/sockhost" --config "$conf" >"$logf" 2>&1 &
    CUR_PID=$!
}
start_sockhost() { start_sockhost_model threading "$@"; }
start_sockhost-forking() { start_sockhost_model forking "$@"; }
start_sockhost-event() { start_sockhost_model event "$@"; }

start_python() {
    local port=$1 logf=$2
    # ThreadingHTTPServer; its per-request access log goes to stderr -> the log file
    setsid "$PYTHON" -m http.server --bind 127.0.0.1 "$port" --directory "$DOCROOT" >"$logf" 2>&1 &
    CUR_PID=$!
}

start_python-forking() {
    local port=$1 logf=$2
    # socketserver.ForkingMixIn + http.server.SimpleHTTPRequestHandler: Python's forking peer.
    setsid "$PYTHON" -c '
import functools, http.server, socketserver, sys
class Server(socketserver.ForkingMixIn, http.server.HTTPServer):
    pass
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])
Server(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
' "$port" "$DOCROOT" >"$logf" 2>&1 &
    CUR_PID=$!
}

start_nginx-log() { NGINX_ACCESS_LOG=on start_nginx "$@"; }

start_nginx() {
    local port=$1 logf=$2 d="$TMP/nginx${NGINX_ACCESS_LOG:+-log}"
    local access="access_log off;"
    [ -n "${NGINX_ACCESS_LOG:-}" ] && access="access_log $d/access.log;"
    mkdir -p "$d"
    local user_line=""
    [ "$(id -u)" -eq 0 ] && user_line="user root;"
    cat >"$d/nginx.conf" <<EOF
$user_line
worker_processes $WORKERS;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    $access
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    server {
        listen 127.0.0.1:$port;
        root $DOCROOT;
    }
}
EOF
    setsid nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;' >"$logf" 2>&1 &
    CUR_PID=$!
}

start_lighttpd() {
    local port=$1 logf=$2 d="$TMP/lighttpd"
    mkdir -p "$d"
    cat >"$d/lighttpd.conf" <<EOF
server.document-root = "$DOCROOT"
server.bind          = "127.0.0.1"
server.port          = $port
server.errorlog      = "$d/error.log"
server.max-fds       = 4096
mimetype.assign      = ( ".bin" => "application/octet-stream" )
EOF
    setsid lighttpd -D -f "$d/lighttpd.conf" >"$logf" 2>&1 &
    CUR_PID=$!
}

available() {
    case $1 in
        sockhost|sockhost-forking|sockhost-event) [ -x "$ROOT/$BUILD_DIR/sockhost" ] ;;
        python|python-forking) [ -n "$PYTHON" ] ;;
        nginx|nginx-log) command -v nginx >/dev/null ;;
        lighttpd) command -v lighttpd >/dev/null ;;
        *) return 1 ;;
    esac
}

modes_for() {   # forking: a fork per connection; keep-alive with 64 connections
    case $1 in  # would exceed max_children (40) and stall, so close mode only
        sockhost-forking|python-forking) echo close ;;
        *) echo "${MODES[@]}" ;;
    esac
}

# --------------------------------------------------------------- results ---
declare -A RPS P99 P50 ERRS RSS
declare -a RAN=()

run_server() {
    local name=$1 port logf size mode out parsed rps p99 reqs errs non2xx
    port=$(free_port) || { log "$name: no free port"; return; }
    logf="$TMP/$name.log"
    log "$name: starting on 127.0.0.1:$port"
    CUR_PID=""
    "start_$name" "$port" "$logf"
    STARTED_PGIDS+=("$CUR_PID")
    if ! wait_ready "$CUR_PID" "$port"; then
        log "$name: did not answer; log:"
        tail -n 20 "$logf" >&2
        stop_group "$CUR_PID"
        return
    fi
    RAN+=("$name")
    for size in "${SIZES[@]}"; do
        curl -s -o /dev/null "http://127.0.0.1:$port/$size.bin"   # warm the page cache
        for mode in $(modes_for "$name"); do
            out="$TMP/wrk-$name-$size-$mode.txt"
            local hdr=() conns=$CONNS base=$mode
            case $mode in *-[0-9]*) conns=${mode##*-}; base=${mode%-*} ;; esac
            [ "$base" = close ] && hdr=(-H 'Connection: close')
            if ! kill -0 "$CUR_PID" 2>/dev/null; then
                log "$name: server died"; break 2
            fi
            timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --latency \
                "${hdr[@]}" "http://127.0.0.1:$port/$size.bin" >"$out" 2>&1
            RSS[$name|$size|$mode]=$(tree_rss_kib "$CUR_PID")
            parsed=$(awk -f "$BENCH/lib/parse_wrk.awk" "$out")
            read -r rps p99 reqs errs non2xx p50 <<<"$parsed"
            [ "$reqs" -eq 0 ] && rps="-"
            RPS[$name|$size|$mode]=$rps
            P99[$name|$size|$mode]=$p99
            P50[$name|$size|$mode]=$p50
            ERRS[$name|$size|$mode]=$((errs + non2xx))
            log "$name $size $mode: ${rps} req/s, p99 ${p99} ms, errors $((errs + non2xx)), rss $((RSS[$name|$size|$mode] / 1024)) MiB"
            sleep 1
        done
    done
    stop_group "$CUR_PID"
    if [ -n "${KEEP_RAW:-}" ]; then
        mkdir -p "$KEEP_RAW" && cp "$TMP"/wrk-"$name"-*.txt "$logf" "$KEEP_RAW"/ 2>/dev/null
    fi
}

cell_rps() {   # req/s, "n/a" when wrk got nothing, "(E:N)" when it counted errors
    local k=$1 v=${RPS[$1]-} e=${ERRS[$1]-0}
    if [ -z "$v" ]; then echo "—"; return; fi
    [ "$v" = "-" ] && v="n/a"
    [ "$e" -gt 0 ] && v="$v (E:$e)"
    echo "$v"
}
cell_p99() {   # "p50 / p99" in ms
    local v=${P99[$1]-} m=${P50[$1]-}
    [ -z "$v" ] && { echo "—"; return; }
    [ "$v" = "-" ] && v="n/a"
    [ -z "$m" ] || [ "$m" = "-" ] && m="n/a"
    echo "$m / $v"
}
cell_rss() { local v=${RSS[$1]-}; [ -z "$v" ] && { echo "—"; return; }; awk -v k="$v" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() {      # ratio A B: RPS[A]/RPS[B] or n/a
    local a=${RPS[$1]-} b=${RPS[$2]-}
    case "$a$b" in *-*|'') echo "n/a"; return ;; esac
    [ -z "$a" ] || [ -z "$b" ] && { echo "n/a"; return; }
    awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
}
has() { local s; for s in "${RAN[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

table() {
    local s size mode k line
    local cols=()
    for s in sockhost-event sockhost sockhost-forking python python-forking nginx nginx-log lighttpd; do has "$s" && cols+=("$s"); done
    line="| file | mode |"
    for s in "${cols[@]}"; do line+=" $s req/s | $s p50 / p99 ms |"; done
    local pair a b
    for pair in $RATIOS; do a=${pair%%:*}; b=${pair##*:}; has "$a" && has "$b" && line+=" $a / $b |"; done
    echo "$line"
    line="|---|---|"
    for s in "${cols[@]}"; do line+="---:|---:|"; done
    for pair in $RATIOS; do a=${pair%%:*}; b=${pair##*:}; has "$a" && has "$b" && line+="---:|"; done
    echo "$line"
    for size in "${SIZES[@]}"; do
        for mode in "${MODES[@]}"; do
            line="| $size | $mode |"
            for s in "${cols[@]}"; do
                k="$s|$size|$mode"
                line+=" $(cell_rps "$k") | $(cell_p99 "$k") |"
            done
            for pair in $RATIOS; do
                a=${pair%%:*}; b=${pair##*:}
                has "$a" && has "$b" && line+=" $(ratio "$a|$size|$mode" "$b|$size|$mode") |"
            done
            echo "$line"
        done
    done
    echo
    echo "Server RSS after each run (MiB, VmRSS summed over the process and its children):"
    echo
    line="| file | mode |"
    for s in "${cols[@]}"; do line+=" $s |"; done
    echo "$line"
    line="|---|---|"
    for s in "${cols[@]}"; do line+="---:|"; done
    echo "$line"
    for size in "${SIZES[@]}"; do
        for mode in "${MODES[@]}"; do
            line="| $size | $mode |"
            for s in "${cols[@]}"; do line+=" $(cell_rss "$s|$size|$mode") |"; done
            echo "$line"
        done
    done
}

version_of() {
    case $1 in
        nginx) nginx -v 2>&1 | sed 's/^nginx version: //' ;;
        lighttpd) lighttpd -v 2>&1 | head -n1 | awk '{print $1}' ;;
        wrk) wrk -v 2>&1 | head -n1 | awk '{print $1, $2}' ;;
        python) "$PYTHON" --version 2>&1 ;;
        sockhost) "$ROOT/$BUILD_DIR/sockhost" --version 2>&1 | head -n1 ;;
    esac
}

# ------------------------------------------------------------------- main ---
main() {
    local t0=$SECONDS s
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockhost-bench.XXXXXX") || die "mktemp"
    install_missing
    command -v wrk >/dev/null || die "wrk is not installed"
    command -v curl >/dev/null || die "curl is not installed"
    PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)
    build_sockhost

    DOCROOT="$TMP/www"
    mkdir -p "$DOCROOT"
    head -c 1024 /dev/urandom >"$DOCROOT/1k.bin"
    head -c 65536 /dev/urandom >"$DOCROOT/64k.bin"
    head -c 1048576 /dev/urandom >"$DOCROOT/1m.bin"

    local load_before
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    local t_bench=$SECONDS
    for s in $SERVERS; do
        if available "$s"; then run_server "$s"; else log "$s: not available, skipped"; fi
    done
    local load_after
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)

    local report
    report=$(
        echo "# sockhost static-file benchmark"
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
        echo "- load average before / after: $load_before / $load_after"
        echo "- sockhost: $(version_of sockhost) (git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), Release, $BUILD_DIR)"
        for s in nginx lighttpd python wrk; do
            available "$s" 2>/dev/null || [ "$s" = wrk ] && echo "- $s: $(version_of "$s")"
        done
        echo "- load: \`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency\` per cell, client and servers on the same machine over loopback"
        echo "- servers: sockhost http_static, log_level=warning (no access log): sockhost-event = concurrency \"event\"" \
             "with [host] workers = $WORKERS (threads = cores), sockhost = threading, sockhost-forking = forking (close only);" \
             "python = python3 -m http.server (ThreadingHTTPServer, HTTP/1.0: closes every connection);" \
             "python-forking = socketserver.ForkingMixIn + SimpleHTTPRequestHandler (close only);" \
             "nginx worker_processes $WORKERS, sendfile on, tcp_nopush on, access_log off (nginx-log: on);" \
             "lighttpd defaults (single process)"
        echo "- -N modes: N connections instead of $CONNS"
        echo "- close = every request sent with \`Connection: close\` (a new TCP connection per request)"
        echo "- (E:N) = wrk counted N socket errors (connect/read/write/timeout) + non-2xx answers; n/a = no request completed; — = not run"
        echo
        table
    )
    publish_report "$report"
    log "benchmark took $((SECONDS - t_bench)) s (all in all $((SECONDS - t0)) s)"
}

main "$@"
