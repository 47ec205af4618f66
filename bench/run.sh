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
#   SKIP_BUILD=1      reuse BUILD_DIR as it is
#   BUILD_DIR=build-bench  the Release build, relative to the repository or absolute
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

BENCH_TAG=bench
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "$0")/lib/common.sh"   # ROOT, BENCH, ...
# shellcheck source=SCRIPTDIR/lib/peers.sh
source "$BENCH/lib/peers.sh"

ALL_SERVERS="sockhost-event sockhost-event-cores sockhost sockhost-forking python python-forking nginx nginx-log lighttpd"
CONNS=${CONNS:-64}
CLK_TCK=$(getconf CLK_TCK)   # /proc/PID/stat counts CPU time in these
RESULTS=${RESULTS-$BENCH/results/static.md}
SERVERS=${SERVERS:-$ALL_SERVERS}
WORKERS=${WORKERS:-1}          # sockhost-event's [host] workers = nginx's worker_processes
EVENT_THREADS=${EVENT_THREADS:-1}   # sockhost-event's threads per worker (nginx/lighttpd: one loop each)
PRIMARY=${PRIMARY:-sockhost-event}   # the sockhost column compared with nginx and lighttpd
# Ratio columns "A/B": the event model against the bars, each Python-model
# counterpart against its Python peer.
RATIOS=${RATIOS:-"$PRIMARY:nginx $PRIMARY:lighttpd $PRIMARY:python sockhost:python sockhost-forking:python-forking"}
ROUNDS=${ROUNDS:-1}
PIN=${PIN:-}
read -r -a SIZES <<<"${SIZES:-1k 64k 1m}"
# A mode is keepalive or close, optionally with "-N": N connections instead of $CONNS.
read -r -a MODES <<<"${MODES:-keepalive close keepalive-512 close-512}"

case "$DURATION" in ''|*[!0-9]*) echo "run.sh: DURATION must be whole seconds" >&2; exit 2 ;; esac
case "$ROUNDS" in ''|*[!0-9]*|0*) echo "run.sh: ROUNDS must be a positive whole number" >&2; exit 2 ;; esac
case "$PIN" in ''|*:*) ;; *) echo "run.sh: PIN must be SERVER_CPUS:CLIENT_CPUS" >&2; exit 2 ;; esac
[ -n "$PIN" ] && SERVER_CPUS=${PIN%%:*} CLIENT_CPUS=${PIN#*:}

# ------------------------------------------------------------------- main ---
main() {
    local t0=$SECONDS load_before t_bench
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockhost-bench.XXXXXX") || die "mktemp"
    install_missing wrk curl python3 nginx:nginx-light,nginx lighttpd
    require wrk curl
    find_python
    build_sockhost
    make_docroot
    load_before=$(loadavg)
    t_bench=$SECONDS
    run_all
    publish_report "$(report "$load_before" "$(loadavg)")"
    log "benchmark took $((SECONDS - t_bench)) s (all in all $((SECONDS - t0)) s)"
}

make_docroot() {   # DOCROOT with a file of random bytes per size, SIZE.bin
    local size bytes
    DOCROOT="$TMP/www"
    mkdir -p "$DOCROOT"
    for size in "${SIZES[@]}"; do
        bytes=$(size_bytes "$size") || die "SIZES: $size is not N, Nk or Nm"
        head -c "$bytes" /dev/urandom >"$DOCROOT/$size.bin"
    done
}

size_bytes() {   # size_bytes 1k|64k|1m|N: the file's length in bytes
    local n=${1%[km]}
    case $n in ''|*[!0-9]*) return 1 ;; esac
    case $1 in *k) echo $((n * 1024)) ;; *m) echo $((n * 1048576)) ;; *) echo "$n" ;; esac
}

# ------------------------------------------------------------ the servers ---
start_server() {   # start_server NAME PORT LOG (bench/lib/peers.sh starts them)
    local port=$2 logf=$3
    case $1 in
        # The event model compared with the peers runs as many handler threads per
        # worker as nginx and lighttpd run event loops per process: one (EVENT_THREADS).
        sockhost-event) start_sockhost_static event "$EVENT_THREADS" "$WORKERS" "$port" "$logf" ;;
        # The event model's default (threads = cores), for information.
        sockhost-event-cores) start_sockhost_static event "" "$WORKERS" "$port" "$logf" ;;
        sockhost) start_sockhost_static threading "" "" "$port" "$logf" ;;
        sockhost-forking) start_sockhost_static forking "" "" "$port" "$logf" ;;
        python) start_python "$port" "$logf" ;;
        python-forking) start_python_forking "$port" "$logf" ;;
        nginx) start_nginx "$port" "$logf" workers="$WORKERS" ;;
        nginx-log) start_nginx "$port" "$logf" workers="$WORKERS" access_log=on ;;
        lighttpd) start_lighttpd "$port" "$logf" "server.max-fds       = 4096" "$LIGHTTPD_BIN_TYPE" ;;
        *) return 1 ;;
    esac
}

modes_for() {   # forking: a fork per connection; keep-alive with 64 connections
    case $1 in  # would exceed max_children (40) and stall, so close mode only
        sockhost-forking|python-forking) echo close ;;
        *) echo "${MODES[@]}" ;;
    esac
}

# ---------------------------------------------------------------- the run ---
# Keyed "server|size|mode". L_* hold one value per round, space-separated (the
# rounds a server ran, in order); RPS/P50/P99 are their medians, filled in by
# summarise; ERRS is summed over rounds; RSS is from the last round. L_CPU/CPU:
# the server's CPU time per completed request (µs), each round's and their median.
declare -A L_RPS L_P50 L_P99 L_CPU RPS P99 P50 CPU ERRS RSS
declare -A PORT PID DEAD
declare -a RAN=()

run_all() {   # every server up, then the cells side by side, then every server down
    local s size mode
    each_available start_one
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

start_one() {   # start_one NAME: on a free port, until it answers; adds it to RAN
    local name=$1 port p
    port=$(free_port) || { log "$name: no free port"; return; }
    launch "$name" "$port" "$TMP/$name.log" wait_ready "$port" "/${SIZES[0]}.bin" || return
    if [ -n "$SERVER_CPUS" ]; then   # every process of the tree, every thread (-a); later children inherit it
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

run_wrk() {   # run_wrk NAME SIZE MODE ROUND: one wrk run, its figures appended to L_*
    local name=$1 size=$2 mode=$3 round=$4 k="$1|$2|$3" out rps p99 reqs errs non2xx p50
    local hdr=() conns=$CONNS base=$mode cpu0 cpu1 cpu=-
    case $mode in *-[0-9]*) conns=${mode##*-}; base=${mode%-*} ;; esac
    [ "$base" = close ] && hdr=(-H 'Connection: close')
    out="$TMP/wrk-$name-$size-$mode-r$round.txt"
    cpu0=$(tree_cpu_ticks "${PID[$name]}")
    wrk_to "$out" -c"$conns" --latency "${hdr[@]}" "http://127.0.0.1:${PORT[$name]}/$size.bin"
    # right after its own run, before the next server's load
    RSS[$k]=$(tree_rss_kib "${PID[$name]}")
    cpu1=$(tree_cpu_ticks "${PID[$name]}")
    read -r rps p99 reqs errs non2xx p50 < <(awk -f "$BENCH/lib/parse_wrk.awk" "$out")
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

summarise() {   # RPS/P50/P99 from the rounds; a round that completed nothing counts as 0 req/s
    local k
    for k in "${!L_RPS[@]}"; do
        # shellcheck disable=SC2086  # the lists are space-separated on purpose
        if [[ ${L_RPS[$k]} =~ [0-9] ]]; then RPS[$k]=$(median %.0f ${L_RPS[$k]//-/0}); else RPS[$k]="-"; fi
        # shellcheck disable=SC2086
        P50[$k]=$(median %.2f ${L_P50[$k]})
        # shellcheck disable=SC2086
        P99[$k]=$(median %.2f ${L_P99[$k]})
        # shellcheck disable=SC2086
        if [[ ${L_CPU[$k]} =~ [0-9] ]]; then CPU[$k]=$(median %.1f ${L_CPU[$k]//-/}); else CPU[$k]="-"; fi
    done
}

# ------------------------------------------------------------- the report ---
report() {   # report LOAD_BEFORE LOAD_AFTER
    local s
    report_intro "sockhost static-file benchmark" "$1" "$2"
    echo "- sockhost: $(sockhost_desc)"
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
    local -a cols=() pairs=() main=() rss=() cpu=() rounds=()
    for s in $ALL_SERVERS; do has "$s" && cols+=("$s"); done
    for s in $RATIOS; do has "${s%%:*}" && has "${s##*:}" && pairs+=("$s"); done
    for s in "${cols[@]}"; do
        main+=("$s req/s" cell_rps "$s" "$s p50 / p99 ms" cell_p99 "$s")
        rss+=("$s" cell_rss "$s")
        cpu+=("$s" cell_cpu "$s")
        rounds+=("$s" per_round "$s")
    done
    for s in "${pairs[@]}"; do
        main+=("${s%%:*} / ${s##*:}" cell_ratio "$s")
        rounds+=("${s%%:*} / ${s##*:}" per_round_ratio "$s")
    done
    grid "${main[@]}"
    echo
    echo "Server RSS right after its run in the cell's last round (MiB, VmRSS summed over the process and its children):"
    echo
    grid "${rss[@]}"
    echo
    echo "Server CPU time per request (µs, user + system over the process, its threads and children, during the wrk run / requests completed; median over the rounds). Client and server share the cores: CPU a server does not use is wrk's."
    echo
    grid "${cpu[@]}"
    if [ "$ROUNDS" -gt 1 ]; then
        echo
        echo "req/s in each round, and the ratios round by round (round 1 / round 2 / ...):"
        echo
        grid "${rounds[@]}"
    fi
}

has() { local s; for s in "${RAN[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

# grid TITLE FN ARG [TITLE FN ARG...]: a Markdown table, a row per file and mode,
# a column per triple: its title over the cells "FN ARG SIZE MODE".
grid() {
    local head="| file | mode |" rule="|---|---|" line size mode i
    for ((i = 1; i <= $#; i += 3)); do head+=" ${!i} |"; rule+="---:|"; done
    echo "$head"
    echo "$rule"
    for size in "${SIZES[@]}"; do
        for mode in "${MODES[@]}"; do
            line="| $size | $mode |"
            for ((i = 1; i <= $#; i += 3)); do
                local fn=$((i + 1)) arg=$((i + 2))
                line+=" $("${!fn}" "${!arg}" "$size" "$mode") |"
            done
            echo "$line"
        done
    done
}

# The cells: CELL SERVER SIZE MODE (ratios: CELL A:B SIZE MODE).
cell_rps() {   # req/s, "n/a" when wrk got nothing, "(E:N)" when it counted errors
    local v=${RPS[$1|$2|$3]-} e=${ERRS[$1|$2|$3]-0}
    if [ -z "$v" ]; then echo "—"; return; fi
    [ "$v" = "-" ] && v="n/a"
    [ "$e" -gt 0 ] && v="$v (E:$e)"
    echo "$v"
}
cell_p99() {   # "p50 / p99" in ms
    local v=${P99[$1|$2|$3]-} m=${P50[$1|$2|$3]-}
    [ -z "$v" ] && { echo "—"; return; }
    [ "$v" = "-" ] && v="n/a"
    [ -z "$m" ] || [ "$m" = "-" ] && m="n/a"
    echo "$m / $v"
}
cell_cpu() { local v=${CPU[$1|$2|$3]-}; [ -z "$v" ] && v="—"; [ "$v" = "-" ] && v="n/a"; echo "$v"; }
cell_rss() { local v=${RSS[$1|$2|$3]-}; if [ -z "$v" ]; then echo "—"; else mib "$v"; fi; }
cell_ratio() { ratio "${RPS[${1%%:*}|$2|$3]-}" "${RPS[${1##*:}|$2|$3]-}"; }
per_round() {   # its rounds' req/s, "a / b / c"
    local v=${L_RPS[$1|$2|$3]-}
    [ -z "$v" ] && { echo "—"; return; }
    v=${v% }
    v=${v//-/n/a}
    echo "${v// / / }"
}
per_round_ratio() {   # req/s A / B round by round, "1.02x / 0.97x"
    local -a a b
    local i out=""
    read -r -a a <<<"${L_RPS[${1%%:*}|$2|$3]-}"
    read -r -a b <<<"${L_RPS[${1##*:}|$2|$3]-}"
    for ((i = 0; i < ${#a[@]} && i < ${#b[@]}; i++)); do out+="${out:+ / }$(ratio "${a[i]}" "${b[i]}")"; done
    echo "${out:-n/a}"
}

main "$@"
