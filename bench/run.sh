#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Static-file benchmark: sockhost http_static against python3 -m http.server,
# nginx and lighttpd, all on 127.0.0.1, measured with wrk in the same run.
# See bench/README.md.
#
# Cells are interleaved: every server is started up front (idle ones cost no
# CPU), then for each file and mode wrk loads each server back-to-back, so the
# figures compared in one row are measured seconds apart, not minutes (this
# VM's spread is about +-15% per 5 s cell, enough to flip a ratio between
# servers measured minutes apart under different background load). ROUNDS=N
# repeats each cell N times, rotating which server goes first, and reports the
# median.
#
#   bench/run.sh                    # DURATION=5 s per wrk run, ~8 minutes for the 8 servers
#   ROUNDS=3 bench/run.sh           # medians of 3, three times as long
#
# Environment (all optional):
#   DURATION=5        seconds per wrk run
#   ROUNDS=1          runs per server and cell; req/s, p50, p99 = median over
#                     rounds (even N: mean of the middle two), errors summed
#   THREADS=2 CONNS=64  wrk -t / -c
#   SERVERS="sockhost-event sockhost-event-cores sockhost sockhost-forking python python-forking nginx nginx-log lighttpd"
#   SIZES="1k 64k 1m" files to serve (N, Nk or Nm bytes)
#   MODES="keepalive close keepalive-512 close-512"
#   WORKERS=1         sockhost-event's [host] workers = nginx's worker_processes
#   EVENT_THREADS=1   sockhost-event's threads (sockhost-event-cores: the default, = cores)
#   PRIMARY=sockhost-event  the sockhost column compared with the peers
#   RATIOS="A:B ..."  ratio columns A / B
#   SKIP_INSTALL=1    do not call apt-get
#   SKIP_BUILD=1      reuse build-bench/ as it is
#   BUILD_DIR=build-bench
#   RESULTS=bench/results/static.md        where the Markdown report goes ("" = don't write)
#   PIN=S:C           pin every server (its processes and threads) to the CPU
#                     list S and wrk to C (taskset), e.g. PIN=0:1: a core
#                     each, so a row bound by the client shows as such
#   KEEP_RAW=DIR      copy every raw wrk report (wrk-SERVER-SIZE-MODE-rROUND.txt)
#                     and server log to DIR
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
CLK_TCK=$(getconf CLK_TCK)   # /proc/PID/stat counts CPU time in these
BUILD_DIR=${BUILD_DIR:-build-bench}
RESULTS=${RESULTS-$BENCH/results/static.md}
SERVERS=${SERVERS:-"sockhost-event sockhost-event-cores sockhost sockhost-forking python python-forking nginx nginx-log lighttpd"}
WORKERS=${WORKERS:-1}          # sockhost-event's [host] workers = nginx's worker_processes
EVENT_THREADS=${EVENT_THREADS:-1}   # sockhost-event's threads per worker (nginx/lighttpd: one loop each)
PRIMARY=${PRIMARY:-sockhost-event}   # the sockhost column compared with nginx and lighttpd
# Ratio columns "A/B": the event model against the bars, each Python-model
# counterpart against its Python peer.
RATIOS=${RATIOS:-"$PRIMARY:nginx $PRIMARY:lighttpd $PRIMARY:python sockhost:python sockhost-forking:python-forking"}
ROUNDS=${ROUNDS:-1}
PIN=${PIN:-}
SERVER_CPUS="" CLIENT_CPUS=""
if [ -n "$PIN" ]; then
    case "$PIN" in *:*) SERVER_CPUS=${PIN%%:*} CLIENT_CPUS=${PIN#*:} ;; *) echo "run.sh: PIN must be SERVER_CPUS:CLIENT_CPUS" >&2; exit 2 ;; esac
fi
read -r -a SIZES <<<"${SIZES:-1k 64k 1m}"
# A mode is keepalive or close, optionally with "-N": N connections instead of $CONNS.
read -r -a MODES <<<"${MODES:-keepalive close keepalive-512 close-512}"

case "$DURATION" in ''|*[!0-9]*) echo "run.sh: DURATION must be whole seconds" >&2; exit 2 ;; esac
case "$ROUNDS" in ''|*[!0-9]*|0*) echo "run.sh: ROUNDS must be a positive whole number" >&2; exit 2 ;; esac

BENCH_TAG=bench
# shellcheck source=SCRIPTDIR/lib/common.sh
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
size_bytes() {   # size_bytes 1k|64k|1m|N: the file's length in bytes
    local n=${1%[km]}
    case $n in ''|*[!0-9]*) return 1 ;; esac
    case $1 in *k) echo $((n * 1024)) ;; *m) echo $((n * 1048576)) ;; *) echo "$n" ;; esac
}



# ------------------------------------------------------------ the servers ---
# start_SERVER PORT LOG: starts it in the foreground of a new session (setsid, so
# its whole process group can be stopped), sets CUR_PID.
start_sockhost_model() {   # MODEL THREADS PORT LOG (THREADS "" = the model's default)
    local model=$1 threads=$2 port=$3 logf=$4 workers_line="" threads_line=""
    local conf="$TMP/sockhost-$model-$port.toml"
    [ "$model" = event ] && workers_line="workers     = $WORKERS"
    [ -n "$threads" ] && threads_line="threads     = $threads"
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
$threads_line
  [server.options]
  directory = "$DOCROOT"
EOF
    setsid "$ROOT/$BUILD_DIR/sockhost" --config "$conf" >"$logf" 2>&1 &
    CUR_PID=$!
}
start_sockhost() { start_sockhost_model threading "" "$@"; }
start_sockhost-forking() { start_sockhost_model forking "" "$@"; }
# The event model compared with the peers runs as many handler threads per
# worker as nginx and lighttpd run event loops per process: one (EVENT_THREADS).
start_sockhost-event() { start_sockhost_model event "$EVENT_THREADS" "$@"; }
# The event model's default (threads = cores), for information.
start_sockhost-event-cores() { start_sockhost_model event "" "$@"; }

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
        sockhost|sockhost-forking|sockhost-event|sockhost-event-cores) [ -x "$ROOT/$BUILD_DIR/sockhost" ] ;;
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
# Keyed "server|size|mode". L_* hold one value per round, space-separated (the
# rounds a server ran, in order); RPS/P50/P99 are their medians, filled in by
# summarise; ERRS is summed over rounds; RSS is from the last round. L_CPU/CPU:
# the server's CPU time per completed request (µs), each round's and their median.
declare -A L_RPS L_P50 L_P99 L_CPU RPS P99 P50 CPU ERRS RSS
declare -A PORT PID DEAD
declare -a RAN=()

start_server() {   # start_server NAME: on a free port, until it answers; adds it to RAN
    local name=$1 port logf
    port=$(free_port) || { log "$name: no free port"; return; }
    logf="$TMP/$name.log"
    log "$name: starting on 127.0.0.1:$port"
    CUR_PID=""
    "start_$name" "$port" "$logf"
    STARTED_PGIDS+=("$CUR_PID")
    if ! wait_ready "$CUR_PID" "$port" "/${SIZES[0]}.bin"; then
        log "$name: did not answer; log:"
        tail -n 20 "$logf" >&2
        stop_group "$CUR_PID"
        return
    fi
    if [ -n "$SERVER_CPUS" ]; then   # every process of the tree, every thread (-a); later children inherit it
        local p
        for p in $(tree_pids "$CUR_PID"); do taskset -a -p -c "$SERVER_CPUS" "$p" >/dev/null 2>&1; done
    fi
    PORT[$name]=$port
    PID[$name]=$CUR_PID
    RAN+=("$name")
}

alive() {   # alive NAME: false once it has died (reported once, then skipped)
    [ -n "${DEAD[$1]-}" ] && return 1
    kill -0 "${PID[$1]}" 2>/dev/null && return 0
    DEAD[$1]=1
    log "$1: server died; skipped for the remaining cells; log:"
    tail -n 20 "$TMP/$1.log" >&2
    return 1
}

runs_mode() {   # runs_mode NAME MODE
    local m
    for m in $(modes_for "$1"); do [ "$m" = "$2" ] && return 0; done
    return 1
}

run_wrk() {   # run_wrk NAME SIZE MODE ROUND: one wrk run, its figures appended to L_*
    local name=$1 size=$2 mode=$3 round=$4 k="$1|$2|$3" out parsed rps p99 reqs errs non2xx p50
    local hdr=() conns=$CONNS base=$mode cpu0 cpu1 cpu=-
    case $mode in *-[0-9]*) conns=${mode##*-}; base=${mode%-*} ;; esac
    [ "$base" = close ] && hdr=(-H 'Connection: close')
    out="$TMP/wrk-$name-$size-$mode-r$round.txt"
    cpu0=$(tree_cpu_ticks "${PID[$name]}")
    local pin=()
    [ -n "$CLIENT_CPUS" ] && pin=(taskset -c "$CLIENT_CPUS")
    timeout $((DURATION + 30)) "${pin[@]}" wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --latency \
        "${hdr[@]}" "http://127.0.0.1:${PORT[$name]}/$size.bin" >"$out" 2>&1
    # right after its own run, before the next server's load
    RSS[$k]=$(tree_rss_kib "${PID[$name]}")
    cpu1=$(tree_cpu_ticks "${PID[$name]}")
    parsed=$(awk -f "$BENCH/lib/parse_wrk.awk" "$out")
    read -r rps p99 reqs errs non2xx p50 <<<"$parsed"
    [ "$reqs" -eq 0 ] && rps="-"
    # ticks are 1/CLK_TCK s; 5 s of one busy core is ~500 of them
    [ "$reqs" -gt 0 ] && cpu=$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')
    L_RPS[$k]+="$rps "
    L_CPU[$k]+="$cpu "
    L_P99[$k]+="$p99 "
    L_P50[$k]+="$p50 "
    ERRS[$k]=$((${ERRS[$k]-0} + errs + non2xx))
    log "$name $size $mode r$round: ${rps} req/s, p99 ${p99} ms, errors $((errs + non2xx)), rss $((RSS[$k] / 1024)) MiB, cpu ${cpu} us/request"
}

run_cell() {   # run_cell SIZE MODE: ROUNDS rounds over the servers that run MODE
    local size=$1 mode=$2 round s i n
    local -a order
    for ((round = 1; round <= ROUNDS; round++)); do
        order=()
        for s in "${RAN[@]}"; do runs_mode "$s" "$mode" && alive "$s" && order+=("$s"); done
        n=${#order[@]}
        # rotate: round r starts at server (r-1) mod n, so none is always first
        for ((i = 0; i < n; i++)); do
            s=${order[(i + round - 1) % n]}
            alive "$s" || continue
            run_wrk "$s" "$size" "$mode" "$round"
            sleep 1   # let the run's connections drain before the next one
        done
    done
}

summarise() {   # RPS/P50/P99 from the rounds; a round that completed nothing counts as 0 req/s
    local k
    for k in "${!L_RPS[@]}"; do
        # shellcheck disable=SC2086  # the lists are space-separated on purpose
        if [[ ${L_RPS[$k]} =~ [0-9] ]]; then RPS[$k]=$(median %.0f ${L_RPS[$k]//-/0}); else RPS[$k]="-"; fi
        # shellcheck disable=SC2086
        P50[$k]=$(median %.2f ${L_P50[$k]})
        # shellcheck disable=SC2086
        P99[$k]=$(median %.2f ${L_P99[$k]})
        if [[ ${L_CPU[$k]} =~ [0-9] ]]; then
            # shellcheck disable=SC2086
            CPU[$k]=$(median %.1f $(echo ${L_CPU[$k]//-/}))
        else CPU[$k]="-"; fi
    done
}

run_all() {   # every server up, then the cells side by side, then every server down
    local s size mode
    for s in $SERVERS; do
        if available "$s"; then start_server "$s"; else log "$s: not available, skipped"; fi
    done
    for size in "${SIZES[@]}"; do
        for s in "${RAN[@]}"; do   # warm the page cache
            alive "$s" && timeout 10 curl -s -o /dev/null "http://127.0.0.1:${PORT[$s]}/$size.bin"
        done
        for mode in "${MODES[@]}"; do run_cell "$size" "$mode"; done
    done
    if [ -n "${KEEP_RAW:-}" ]; then
        mkdir -p "$KEEP_RAW" && cp "$TMP"/wrk-*.txt "$TMP"/*.log "$KEEP_RAW"/ 2>/dev/null
    fi
    for s in "${RAN[@]}"; do stop_group "${PID[$s]}"; done
    summarise
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
cell_cpu() { local v=${CPU[$1]-}; [ -z "$v" ] && v="—"; [ "$v" = "-" ] && v="n/a"; echo "$v"; }
cell_rss() { local v=${RSS[$1]-}; [ -z "$v" ] && { echo "—"; return; }; awk -v k="$v" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() {      # ratio A B: RPS[A]/RPS[B] or n/a
    local a=${RPS[$1]-} b=${RPS[$2]-}
    case "$a$b" in *-*|'') echo "n/a"; return ;; esac
    [ -z "$a" ] || [ -z "$b" ] && { echo "n/a"; return; }
    awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
}
has() { local s; for s in "${RAN[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

per_server_table() {   # per_server_table CELL_FN: a row per file and mode, a CELL_FN column per server in cols (table's)
    local fn=$1 s size mode line
    line="| file | mode |"
    for s in "${cols[@]}"; do line+=" $s |"; done
    echo "$line"
    line="|---|---|"
    for s in "${cols[@]}"; do line+="---:|"; done
    echo "$line"
    for size in "${SIZES[@]}"; do
        for mode in "${MODES[@]}"; do
            line="| $size | $mode |"
            for s in "${cols[@]}"; do line+=" $("$fn" "$s|$size|$mode") |"; done
            echo "$line"
        done
    done
}

table() {
    local s size mode k line
    local cols=()
    for s in sockhost-event sockhost-event-cores sockhost sockhost-forking python python-forking nginx nginx-log lighttpd; do has "$s" && cols+=("$s"); done
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
    echo "Server RSS right after its run in the cell's last round (MiB, VmRSS summed over the process and its children):"
    echo
    per_server_table cell_rss
    echo
    echo "Server CPU time per request (µs, user + system over the process, its threads and children, during the wrk run / requests completed; median over the rounds). Client and server share the cores: CPU a server does not use is wrk's."
    echo
    per_server_table cell_cpu
}

per_round() {   # per_round KEY: its rounds' req/s, "a / b / c"
    local v=${L_RPS[$1]-}
    [ -z "$v" ] && { echo "—"; return; }
    v=${v% }
    v=${v//-/n/a}
    echo "${v// / / }"
}
per_round_ratio() {   # per_round_ratio A B: req/s A / B round by round, "1.02x / 0.97x"
    local -a a b
    local i out=""
    read -r -a a <<<"${L_RPS[$1]-}"
    read -r -a b <<<"${L_RPS[$2]-}"
    for ((i = 0; i < ${#a[@]} && i < ${#b[@]}; i++)); do
        out+="${out:+ / }$(awk -v a="${a[i]}" -v b="${b[i]}" 'BEGIN {
            if (a == "-" || b == "-" || b + 0 <= 0) print "n/a"; else printf "%.2fx", a / b }')"
    done
    echo "${out:-n/a}"
}

rounds_table() {   # req/s of every round, and the ratios round by round (same round = seconds apart)
    local s size mode line pair a b
    local -a cols=() pairs=()
    for s in sockhost-event sockhost-event-cores sockhost sockhost-forking python python-forking nginx nginx-log lighttpd; do has "$s" && cols+=("$s"); done
    for pair in $RATIOS; do has "${pair%%:*}" && has "${pair##*:}" && pairs+=("$pair"); done
    line="| file | mode |"
    for s in "${cols[@]}"; do line+=" $s |"; done
    for pair in "${pairs[@]}"; do line+=" ${pair%%:*} / ${pair##*:} |"; done
    echo "$line"
    line="|---|---|"
    for s in "${cols[@]}" "${pairs[@]}"; do line+="---:|"; done
    echo "$line"
    for size in "${SIZES[@]}"; do
        for mode in "${MODES[@]}"; do
            line="| $size | $mode |"
            for s in "${cols[@]}"; do line+=" $(per_round "$s|$size|$mode") |"; done
            for pair in "${pairs[@]}"; do
                a=${pair%%:*}; b=${pair##*:}
                line+=" $(per_round_ratio "$a|$size|$mode" "$b|$size|$mode") |"
            done
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
    local size bytes
    for size in "${SIZES[@]}"; do
        bytes=$(size_bytes "$size") || die "SIZES: $size is not N, Nk or Nm"
        head -c "$bytes" /dev/urandom >"$DOCROOT/$size.bin"
    done

    local load_before
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    local t_bench=$SECONDS
    run_all
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
        [ -n "$PIN" ] && echo "- pinned (PIN=$PIN): every server on CPU(s) $SERVER_CPUS, wrk on CPU(s) $CLIENT_CPUS"
        echo "- cells interleaved: every server started up front; for each file and mode, wrk loaded each server" \
             "back-to-back (1 s apart), so the figures in a row were measured seconds apart"
        if [ "$ROUNDS" -gt 1 ]; then
            echo "- rounds: $ROUNDS per cell, the order of the servers rotated every round; req/s, p50 and p99 are the" \
                 "median over the rounds (even count: mean of the middle two), errors summed over the rounds, RSS from the last round"
        else
            echo "- rounds: 1 (ROUNDS=1), one wrk run per server and cell"
        fi
        echo "- servers: sockhost http_static, log_level=warning (no access log): sockhost-event = concurrency \"event\"" \
             "with [host] workers = $WORKERS and threads = $EVENT_THREADS per worker (as many threads serving as nginx's workers), sockhost-event-cores = the same with the default threads = cores ($(nproc)), sockhost = threading, sockhost-forking = forking (close only);" \
             "python = python3 -m http.server (ThreadingHTTPServer, HTTP/1.0: closes every connection);" \
             "python-forking = socketserver.ForkingMixIn + SimpleHTTPRequestHandler (close only);" \
             "nginx worker_processes $WORKERS, sendfile on, tcp_nopush on, access_log off (nginx-log: on);" \
             "lighttpd defaults (single process)"
        echo "- -N modes: N connections instead of $CONNS"
        echo "- close = every request sent with \`Connection: close\` (a new TCP connection per request)"
        echo "- (E:N) = wrk counted N socket errors (connect/read/write/timeout) + non-2xx answers; n/a = no request completed; — = not run"
        echo
        table
        if [ "$ROUNDS" -gt 1 ]; then
            echo
            echo "req/s in each round, and the ratios round by round (round 1 / round 2 / ...):"
            echo
            rounds_table
        fi
    )
    publish_report "$report"
    log "benchmark took $((SECONDS - t_bench)) s (all in all $((SECONDS - t0)) s)"
}

main "$@"
