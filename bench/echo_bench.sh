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
#   SKIP_BUILD=1 BUILD_DIR=build-bench   reuse the Release build as it is
#   RESULTS=bench/results/echo.md        "" = don't write
#
# Every step is bounded (timeout); each server runs in its own session (setsid)
# and is stopped by process group on exit; only 127.0.0.1 and a Unix socket in
# a temp dir are used.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-1}
CONNS=${CONNS:-64}
SIZE=${SIZE:-64}
LOAD_THREADS=${LOAD_THREADS:-1}
UDP_TIMEOUT_MS=${UDP_TIMEOUT_MS:-200}
TRANSPORTS=${TRANSPORTS:-"tcp unix udp"}
SERVERS=${SERVERS:-"c-echo c-echo-2 sockhost-event sockhost-event-cores sockhost-threading sockhost-event-w2"}
EVENT_THREADS=${EVENT_THREADS:-1}
BUILD_DIR=${BUILD_DIR:-build-bench}
RESULTS=${RESULTS-$BENCH/results/echo.md}
REF=c-echo

BENCH_TAG=echo-bench
source "$BENCH/lib/common.sh"

free_port() {   # a port free for both tcp and udp on 127.0.0.1
    python3 - <<'PY'
import socket
for _ in range(50):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        u.close(); s.close()
PY
}


listening() {   # listening tcp|udp|unix ADDR
    case $1 in
        tcp) ss -Hltn "sport = :$2" 2>/dev/null | grep -q . ;;
        udp) ss -Hlun "sport = :$2" 2>/dev/null | grep -q . ;;
        unix) [ -S "$2" ] ;;
    esac
}

wait_listening() {   # PID: until every transport listens (15 s at most)
    local pid=$1 i t ok
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        ok=1
        for t in $TRANSPORTS; do
            case $t in
                tcp) listening tcp "$PORT" || ok=0 ;;
                udp) listening udp "$PORT" || ok=0 ;;
                unix) listening unix "$SOCK" || ok=0 ;;
            esac
        done
        [ $ok = 1 ] && { sleep 0.2; return 0; }
        sleep 0.1
    done
    return 1
}

build() {
    log "building echo_load and c_echo"
    timeout 300 bash "$BENCH/echo/build.sh" "$TMP/bin" >"$TMP/echo-build.log" 2>&1 \
        || { cat "$TMP/echo-build.log" >&2; die "bench/echo/build.sh failed"; }
    build_sockhost
}

# ------------------------------------------------------------ the servers ---
# start_X LOG: one server process (tree) serving every transport of this run
# (c_echo: one process per transport; they are all in one process group).
start_sockhost() {   # start_sockhost MODEL WORKERS LOG [THREADS]
    local model=$1 workers=$2 logf=$3 threads=${4-} conf="$TMP/sockhost-$1-$2-${4-}.toml" t threads_line=""
    [ -n "$threads" ] && threads_line="threads = $threads"
    {
        echo "[host]"
        echo "plugins_dir = \"$ROOT/$BUILD_DIR/plugins\""
        echo "log_level   = \"warning\""
        [ "$workers" -gt 0 ] && echo "workers     = $workers"
        for t in $TRANSPORTS; do
            echo
            echo "[[server]]"
            echo "name        = \"echo-$t\""
            case $t in
                tcp) echo "listen      = \"tcp://127.0.0.1:$PORT\"" ;;
                udp) echo "listen      = \"udp://127.0.0.1:$PORT\"" ;;
                unix) echo "listen      = \"unix://$SOCK\"" ;;
            esac
            echo "plugin      = \"echo\""
            echo "concurrency = \"$model\""
            # echo is resumable: under event its connections wait in epoll
            # between messages, so the default pool serves all of them.
            [ -n "$threads_line" ] && echo "$threads_line"
        done
    } >"$conf"
    setsid "$ROOT/$BUILD_DIR/sockhost" --config "$conf" >"$logf" 2>&1 &
    CUR_PID=$!
}
start_c_echo() {   # start_c_echo THREADS LOG
    local n=$1 logf=$2 t
    # one session leader (a subshell) holding the three c_echo processes
    setsid bash -c '
        bin=$1; port=$2; sock=$3; n=$4; shift 4
        for t in "$@"; do
            case $t in
                tcp) "$bin" tcp "$port" "$n" & ;;
                udp) "$bin" udp "$port" "$n" & ;;
                unix) "$bin" unix "$sock" "$n" & ;;
            esac
        done
        wait' _ "$TMP/bin/c_echo" "$PORT" "$SOCK" "$n" $TRANSPORTS >"$logf" 2>&1 &
    CUR_PID=$!
}
start_server() {   # start_server NAME LOG
    case $1 in
        c-echo) start_c_echo 1 "$2" ;;
        c-echo-2) start_c_echo 2 "$2" ;;
        sockhost-event) start_sockhost event 0 "$2" "$EVENT_THREADS" ;;
        sockhost-event-cores) start_sockhost event 0 "$2" ;;
        sockhost-threading) start_sockhost threading 0 "$2" ;;
        sockhost-forking) start_sockhost forking 0 "$2" ;;
        sockhost-event-w2) start_sockhost event 2 "$2" "$EVENT_THREADS" ;;
        sockhost-threading-w2) start_sockhost threading 2 "$2" ;;
        *) return 1 ;;
    esac
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
    local name=$1 logf="$TMP/$1.log" t url out line
    PORT=$(free_port) || { log "$name: no free port"; return; }
    SOCK="$TMP/$name.sock"
    log "$name: starting (port $PORT, $SOCK)"
    CUR_PID=""
    start_server "$name" "$logf" || { log "$name: unknown server"; return; }
    STARTED_PGIDS+=("$CUR_PID")
    if ! wait_listening "$CUR_PID"; then
        log "$name: not listening; log:"; tail -n 20 "$logf" >&2
        stop_group "$CUR_PID"; return
    fi
    [[ " ${RAN[*]} " == *" $name "* ]] || RAN+=("$name")
    for t in $TRANSPORTS; do
        case $t in
            tcp) url="tcp://127.0.0.1:$PORT" ;;
            udp) url="udp://127.0.0.1:$PORT" ;;
            unix) url="unix://$SOCK" ;;
        esac
        out="$TMP/load-$name-$t.txt"
        timeout $((DURATION + WARMUP + 30)) "$TMP/bin/echo_load" -c "$CONNS" -s "$SIZE" -d "$DURATION" \
            -w "$WARMUP" -t "$LOAD_THREADS" -T "$UDP_TIMEOUT_MS" "$url" >"$out" 2>&1
        RSS[$name|$t]=$(tree_rss_kib "$CUR_PID")
        line=$(grep '^RESULT ' "$out" | tail -n1)
        if [ -z "$line" ]; then
            log "$name $t: no result"; sed 's/^/    /' "$out" >&2
            continue
        fi
        local rps p50 p99 errors starved lost
        rps=$(sed -n 's/.* rps=\([^ ]*\).*/\1/p' <<<"$line")
        p50=$(sed -n 's/.* p50_us=\([^ ]*\).*/\1/p' <<<"$line")
        p99=$(sed -n 's/.* p99_us=\([^ ]*\).*/\1/p' <<<"$line")
        errors=$(sed -n 's/.* errors=\([^ ]*\).*/\1/p' <<<"$line")
        starved=$(sed -n 's/.* starved=\([^ ]*\).*/\1/p' <<<"$line")
        lost=$(sed -n 's/.* lost=\([^ ]*\).*/\1/p' <<<"$line")
        L_RPS[$name|$t]+="${rps%.*} "; L_P50[$name|$t]+="$p50 "; L_P99[$name|$t]+="$p99 "
        L_ERR[$name|$t]+="$errors/$starved/$lost "
        log "$name $t: ${rps%.*} round trips/s, p50 $p50 us, p99 $p99 us, errors/starved/lost $errors/$starved/$lost"
        sleep 0.5
    done
    stop_group "$CUR_PID"
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

rounds_table() {   # each round's round trips/s and ratio to the reference
    local t s k
    echo "| transport | server | round trips/s, round 1 / 2 / ... | / $REF, round by round |"
    echo "|---|---|---:|---:|"
    for t in $TRANSPORTS; do
        for s in "${RAN[@]}"; do
            k="$s|$t"
            [ -n "${L_RPS[$k]-}" ] || continue
            printf '| %s | %s | %s | %s |\n' "$t" "$s" "$(sed 's/ $//; s/ / \/ /g' <<<"${L_RPS[$k]}")" \
                "$(paste -d' ' <(tr ' ' '\n' <<<"${L_RPS[$k]}") <(tr ' ' '\n' <<<"${L_RPS[$REF|$t]-}") |
                    awk 'NF == 2 && $2 > 0 { printf "%s%.2fx", (n++ ? " / " : ""), $1 / $2 }')"
        done
    done
}

ratio() {
    local a=${RPS[$1]-} b=${RPS[$2]-}
    [ -n "$a" ] && [ -n "$b" ] || { echo "n/a"; return; }
    awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
}

table() {
    local t s k
    echo "| transport | server | round trips/s | p50 µs | p99 µs | errors/starved/lost | RSS MiB | / $REF |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    for t in $TRANSPORTS; do
        for s in "${RAN[@]}"; do
            k="$s|$t"
            if [ -z "${RPS[$k]-}" ]; then
                echo "| $t | $s | — | — | — | — | — | — |"; continue
            fi
            printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$s" "${RPS[$k]}" "${P50[$k]}" "${P99[$k]}" \
                "${ERR[$k]}" "$(awk -v k="${RSS[$k]}" 'BEGIN { printf "%.1f", k / 1024 }')" "$(ratio "$k" "$REF|$t")"
        done
    done
}

main() {
    local s t0=$SECONDS
    case "$DURATION$WARMUP$CONNS$SIZE" in *[!0-9]*) die "DURATION, WARMUP, CONNS, SIZE must be whole numbers" ;; esac
    command -v python3 >/dev/null || die "python3 is needed (free port)"
    command -v ss >/dev/null || die "ss (iproute2) is needed"
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockhost-echo-bench.XXXXXX") || die "mktemp"
    build
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    local load_before load_after
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    local round i n
    local -a servers
    read -r -a servers <<<"$SERVERS"
    n=${#servers[@]}
    for ((round = 1; round <= ROUNDS; round++)); do
        # rotate: round r starts at server (r-1) mod n, so none is always first
        for ((i = 0; i < n; i++)); do run_server "${servers[(i + round - 1) % n]}"; done
    done
    summarise
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    local report
    report=$(
        echo "# sockhost echo benchmark"
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
        echo "- load average before / after: $load_before / $load_after"
        echo "- sockhost: $("$ROOT/$BUILD_DIR/sockhost" --version 2>&1 | head -n1) (git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), Release, $BUILD_DIR)"
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
