#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Echo benchmark: sockhost's echo plugin (tcp, udp, unix; event and threading
# models; event with workers = 2) against a bare C epoll echo server
# (bench/echo/c_echo.c, the loopback limit), all loaded in the same run by
# bench/echo/echo_load. See bench/README.md.
#
#   bench/echo_bench.sh                  # 64 connections, 64-byte messages, 5 s per cell
#   DURATION=10 CONNS=128 bench/echo_bench.sh
#
# Environment (all optional):
#   DURATION=5  WARMUP=1     seconds measured / not counted, per cell
#   ROUNDS=1                 runs per server (order rotated each round); round
#                            trips/s, p50, p99 = median over the rounds
#   CONNS=64    SIZE=64      connections (udp: sockets) and message size
#   LOAD_THREADS=1           echo_load's epoll threads
#   UDP_TIMEOUT_MS=200       a datagram unanswered this long counts as lost
#   TRANSPORTS="tcp unix udp"
#   SERVERS="c-echo c-echo-2 sockhost-event sockhost-event-cores sockhost-threading sockhost-event-w2"
#   EVENT_THREADS=1          sockhost-event's `threads` (the C echo's one epoll thread;
#                            sockhost-event-cores: the default, one per core)
#   SKIP_BUILD=1 BUILD_DIR=build-bench   reuse the Release build as it is (BUILD_DIR
#                                        relative to the repository or absolute)
#   RESULTS=bench/results/echo.md        "" = don't write
#
# Every step is bounded (timeout); each server runs in its own session (setsid)
# and is stopped by process group on exit; only 127.0.0.1 and a Unix socket in
# a temp dir are used.
set -uo pipefail

BENCH_TAG=echo-bench
source "$(dirname "$0")/lib/common.sh"   # ROOT, BENCH, ...
source "$BENCH/lib/peers.sh"

REF="c-echo"   # the reference: every ratio is to the one-thread C echo
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-1}
CONNS=${CONNS:-64}
SIZE=${SIZE:-64}
LOAD_THREADS=${LOAD_THREADS:-1}
UDP_TIMEOUT_MS=${UDP_TIMEOUT_MS:-200}
TRANSPORTS=${TRANSPORTS:-"tcp unix udp"}
SERVERS=${SERVERS:-"c-echo c-echo-2 sockhost-event sockhost-event-cores sockhost-threading sockhost-event-w2"}
EVENT_THREADS=${EVENT_THREADS:-1}
RESULTS=${RESULTS-$BENCH/results/echo.md}

url_of() {   # url_of TRANSPORT: where this run's server listens on it (PORT, SOCK)
    case $1 in
        tcp|udp) echo "$1://127.0.0.1:$PORT" ;;
        unix) echo "unix://$SOCK" ;;
    esac
}

ready() {   # ready PID: every transport listens (15 s at most)
    local t addrs=()
    for t in $TRANSPORTS; do
        case $t in tcp|udp) addrs+=("$t:$PORT") ;; unix) addrs+=("unix:$SOCK") ;; esac
    done
    wait_listening "$1" 150 "${addrs[@]}" && sleep 0.2
}

build() {
    log "building echo_load and c_echo"
    timeout 300 bash "$BENCH/echo/build.sh" "$TMP/bin" >"$TMP/echo-build.log" 2>&1 \
        || { cat "$TMP/echo-build.log" >&2; die "bench/echo/build.sh failed"; }
    build_sockhost
}

# ------------------------------------------------------------ the servers ---
# One server process (tree) serves every transport of this run (c_echo: one
# process per transport, all in one process group), on PORT and SOCK.
start_server() {   # start_server NAME PORT LOG
    local logf=$3
    case $1 in
        c-echo) start_c_echo 1 "$logf" ;;
        c-echo-2) start_c_echo 2 "$logf" ;;
        sockhost-event) start_echo_sockhost event 0 "$logf" "$EVENT_THREADS" ;;
        sockhost-event-cores) start_echo_sockhost event 0 "$logf" ;;
        sockhost-threading) start_echo_sockhost threading 0 "$logf" ;;
        sockhost-forking) start_echo_sockhost forking 0 "$logf" ;;
        sockhost-event-w2) start_echo_sockhost event 2 "$logf" "$EVENT_THREADS" ;;
        sockhost-threading-w2) start_echo_sockhost threading 2 "$logf" ;;
        *) return 1 ;;
    esac
}
start_echo_sockhost() {   # start_echo_sockhost MODEL WORKERS LOG [THREADS]
    local model=$1 workers=$2 logf=$3 threads=${4-} conf="$TMP/sockhost-$1-$2-${4-}.toml" t
    {
        sockhost_conf_host "$workers"
        # echo is resumable: under event its connections wait in epoll
        # between messages, so the default pool serves all of them.
        for t in $TRANSPORTS; do sockhost_conf_server "echo-$t" "$(url_of "$t")" echo "$model" "$threads"; done
    } >"$conf"
    start_sockhost "$conf" "$logf"
}
start_c_echo() {   # start_c_echo THREADS LOG
    local n=$1 logf=$2
    # one session leader (a subshell) holding the three c_echo processes
    setsid bash -c '
        bin=$1; port=$2; sock=$3; n=$4; shift 4
        for t in "$@"; do
            case $t in
                tcp|udp) "$bin" "$t" "$port" "$n" & ;;
                unix) "$bin" unix "$sock" "$n" & ;;
            esac
        done
        wait' _ "$TMP/bin/c_echo" "$PORT" "$SOCK" "$n" $TRANSPORTS >"$logf" 2>&1 &
    CUR_PID=$!
}
describe() {
    case $1 in
        c-echo) echo "bench/echo/c_echo, one epoll thread" ;;
        c-echo-2) echo "bench/echo/c_echo, two epoll threads (SO_REUSEPORT for tcp/udp, EPOLLEXCLUSIVE for unix)" ;;
        sockhost-event) echo "sockhost echo, concurrency = \"event\", threads = ${EVENT_THREADS:-default (one per core)}" ;;
        sockhost-event-cores) echo "sockhost echo, concurrency = \"event\", threads = default (one per core)" ;;
        sockhost-threading) echo "sockhost echo, concurrency = \"threading\"" ;;
        sockhost-forking) echo "sockhost echo, concurrency = \"forking\"" ;;
        sockhost-event-w2) echo "sockhost echo, concurrency = \"event\" as above, [host] workers = 2" ;;
        sockhost-threading-w2) echo "sockhost echo, concurrency = \"threading\", [host] workers = 2" ;;
    esac
}

declare -A RPS P50 P99 ERR RSS
# Per round, space-separated (in round order): filled by run_server, reduced
# to RPS/P50/P99 (medians) and ERR (sums) by summarise.
declare -A L_RPS L_P50 L_P99 L_ERR
declare -a RAN=()

run_server() {
    local name=$1 t out line
    PORT=$(free_port) || { log "$name: no free port"; return; }
    SOCK="$TMP/$name.sock"
    launch "$name" "$PORT" "$TMP/$name.log" ready || return
    [[ " ${RAN[*]} " == *" $name "* ]] || RAN+=("$name")
    for t in $TRANSPORTS; do
        out="$TMP/load-$name-$t.txt"
        timeout $((DURATION + WARMUP + 30)) "$TMP/bin/echo_load" -c "$CONNS" -s "$SIZE" -d "$DURATION" \
            -w "$WARMUP" -t "$LOAD_THREADS" -T "$UDP_TIMEOUT_MS" "$(url_of "$t")" >"$out" 2>&1
        RSS[$name|$t]=$(tree_rss_kib "$CUR_PID")
        line=$(grep '^RESULT ' "$out" | tail -n1)
        if [ -z "$line" ]; then
            log "$name $t: no result"; sed 's/^/    /' "$out" >&2
            continue
        fi
        local rps p50 p99 errors starved lost
        read -r rps p50 p99 errors starved lost < <(result_fields "$line" rps p50_us p99_us errors starved lost)
        L_RPS[$name|$t]+="${rps%.*} "; L_P50[$name|$t]+="$p50 "; L_P99[$name|$t]+="$p99 "
        L_ERR[$name|$t]+="$errors/$starved/$lost "
        log "$name $t: ${rps%.*} round trips/s, p50 $p50 us, p99 $p99 us, errors/starved/lost $errors/$starved/$lost"
        sleep 0.5
    done
    stop_group "$CUR_PID"
}

result_fields() {   # result_fields LINE KEY...: the values of KEY=VALUE in echo_load's RESULT line, in KEY order
    local line=$1 k out=()
    shift
    for k; do out+=("$(sed -n "s/.* $k=\([^ ]*\).*/\1/p" <<<"$line")"); done
    echo "${out[*]}"
}

summarise() {
    local k
    for k in "${!L_RPS[@]}"; do
        # shellcheck disable=SC2086  # the lists are space-separated on purpose
        RPS[$k]=$(median %.0f ${L_RPS[$k]})
        # shellcheck disable=SC2086
        P50[$k]=$(median %.1f ${L_P50[$k]})
        # shellcheck disable=SC2086
        P99[$k]=$(median %.1f ${L_P99[$k]})
        ERR[$k]=$(tr ' /' '\n ' <<<"${L_ERR[$k]}" | awk 'NF == 3 { e += $1; s += $2; l += $3 } END { printf "%d/%d/%d", e, s, l }')
    done
}

# The tables: a row per transport and server (each_cell ROW_FN calls ROW_FN TRANSPORT SERVER).
each_cell() { local t s; for t in $TRANSPORTS; do for s in "${RAN[@]}"; do "$1" "$t" "$s"; done; done; }

table() {
    echo "| transport | server | round trips/s | p50 µs | p99 µs | errors/starved/lost | RSS MiB | / $REF |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    each_cell table_row
}
table_row() {
    local k="$2|$1"
    if [ -z "${RPS[$k]-}" ]; then
        echo "| $1 | $2 | — | — | — | — | — | — |"; return
    fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "${RPS[$k]}" "${P50[$k]}" "${P99[$k]}" \
        "${ERR[$k]}" "$(mib "${RSS[$k]}")" "$(ratio "${RPS[$k]}" "${RPS[$REF|$1]-}")"
}

rounds_table() {   # each round's round trips/s and ratio to the reference
    echo "| transport | server | round trips/s, round 1 / 2 / ... | / $REF, round by round |"
    echo "|---|---|---:|---:|"
    each_cell rounds_row
}
rounds_row() {
    local k="$2|$1"
    [ -n "${L_RPS[$k]-}" ] || return 0
    printf '| %s | %s | %s | %s |\n' "$1" "$2" "$(sed 's/ $//; s/ / \/ /g' <<<"${L_RPS[$k]}")" \
        "$(paste -d' ' <(tr ' ' '\n' <<<"${L_RPS[$k]}") <(tr ' ' '\n' <<<"${L_RPS[$REF|$1]-}") |
            awk 'NF == 2 && $2 > 0 { printf "%s%.2fx", (n++ ? " / " : ""), $1 / $2 }')"
}

main() {
    local s t0=$SECONDS
    case "$DURATION$WARMUP$CONNS$SIZE" in *[!0-9]*) die "DURATION, WARMUP, CONNS, SIZE must be whole numbers" ;; esac
    require python3 ss   # free_port, wait_listening
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockhost-echo-bench.XXXXXX") || die "mktemp"
    build
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    local load_before
    load_before=$(loadavg)
    local round i n
    local -a servers
    read -r -a servers <<<"$SERVERS"
    n=${#servers[@]}
    for ((round = 1; round <= ROUNDS; round++)); do
        # rotate: round r starts at server (r-1) mod n, so none is always first
        for ((i = 0; i < n; i++)); do run_server "${servers[(i + round - 1) % n]}"; done
    done
    summarise
    local report
    report=$(
        report_intro "sockhost echo benchmark" "$load_before" "$(loadavg)"
        echo "- sockhost: $(sockhost_desc)"
        echo "- load: \`echo_load -c $CONNS -s $SIZE -d $DURATION -w $WARMUP -t $LOAD_THREADS\` per cell: $CONNS connections (udp: connected sockets), each with one $SIZE-byte message in flight; client and server share the machine; udp replies later than ${UDP_TIMEOUT_MS} ms count as lost"
        for s in "${RAN[@]}"; do echo "- $s: $(describe "$s")"; done
        echo "- errors/starved/lost: connections that failed / connections that completed no round trip in the measured window / datagrams unanswered within the timeout"
        echo "- rounds: $ROUNDS, the order of the servers rotated every round; round trips/s, p50 and p99 are the median over the rounds (even count: mean of the middle two), errors/starved/lost summed, RSS from the last round"
        echo "- / $REF: round trips/s divided by the one-thread C echo's on the same transport, same run (target ≥ 0.8x)"
        echo
        table
        if [ "$ROUNDS" -gt 1 ]; then
            echo
            rounds_table
        fi
    )
    publish_report "$report"
    log "took $((SECONDS - t0)) s"
}

main "$@"
