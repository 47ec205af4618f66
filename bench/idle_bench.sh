#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Idle keep-alive benchmark: what 10,000 idle HTTP keep-alive connections cost
# sockhost http_static under concurrency = "event" (RSS per connection) and
# what they do to active clients (wrk p50/p99 and req/s with and without them).
# nginx and lighttpd the same way when installed. See bench/README.md.
#
#   bench/idle_bench.sh                       # 10,000 idle, wrk -c64 5 s on a 1 KiB file
#   IDLE=2000 DURATION=3 SERVERS=sockhost-event bench/idle_bench.sh
#
# Environment (all optional):
#   IDLE=10000          idle connections (each sends one GET, reads the answer, then idles)
#   DURATION=5 THREADS=2 CONNS=64   wrk -d / -t / -c
#   SERVERS="sockhost-event nginx lighttpd"
#   WORKERS=            sockhost [host] workers (unset = none) and nginx worker_processes (1)
#   SKIP_BUILD=1 BUILD_DIR=build-bench   reuse the Release build as it is (BUILD_DIR
#                                        relative to the repository or absolute)
#   RESULTS=bench/results/idle.md   "" = don't write
#
# Bounded throughout (timeout), 127.0.0.1 only, each server in its own session
# (setsid) stopped by process group on exit, temp dir removed.
set -uo pipefail

BENCH_TAG=idle-bench
source "$(dirname "$0")/lib/common.sh"   # ROOT, BENCH, ...
source "$BENCH/lib/peers.sh"

IDLE=${IDLE:-10000}
CONNS=${CONNS:-64}
SERVERS=${SERVERS:-"sockhost-event nginx lighttpd"}
WORKERS=${WORKERS:-}
RESULTS=${RESULTS-$BENCH/results/idle.md}

HOLDER_PID=""

stop_holder() {
    exec 7>&-   # EOF on its stdin: it closes every connection and exits
    [ -n "$HOLDER_PID" ] || return 0
    local i
    for ((i = 0; i < 50; i++)); do kill -0 "$HOLDER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$HOLDER_PID" 2>/dev/null
    wait "$HOLDER_PID" 2>/dev/null
    HOLDER_PID=""
}
bench_cleanup_extra() { stop_holder; }

tree_threads() {   # threads (LWPs) of every process in the server's session
    ps -o nlwp= -s "$1" 2>/dev/null | awk '{ n += $1 } END { print n + 0 }'
}

# The idle-connection holder: opens N connections (256 connecting at a time),
# sends one GET on each, reads the whole answer, then keeps them open. Prints
# "READY ok=N failed=F"; on a "check" line on stdin prints "OPEN n CLOSED m"
# (a connection the server closed polls readable); on EOF exits.
write_holder() {
    cat >"$TMP/hold_idle.py" <<'PY'
import errno, os, resource, select, selectors, socket, sys, time
host, port, n, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
req = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
sel = selectors.DefaultSelector()
pending, held = {}, []
ok = failed = started = 0
deadline = time.monotonic() + 120

def complete(buf):
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    return len(buf) >= end + 4 + length

def drop(s):
    global failed
    failed += 1
    sel.unregister(s)
    del pending[s]
    s.close()

while (started < n or pending) and time.monotonic() < deadline:
    while started < n and len(pending) < 256:
        started += 1
        s = socket.socket()
        s.setblocking(False)
        err = s.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            failed += 1
            s.close()
            continue
        pending[s] = [b"", False]
        sel.register(s, selectors.EVENT_WRITE)
    for key, ev in sel.select(timeout=1):
        s = key.fileobj
        st = pending[s]
        try:
            if not st[1]:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    drop(s); continue
                s.send(req)
                st[1] = True
                sel.modify(s, selectors.EVENT_READ)
                continue
            data = s.recv(65536)
        except OSError:
            drop(s); continue
        if not data:
            drop(s); continue
        st[0] += data
        if complete(st[0]):
            sel.unregister(s)
            del pending[s]
            held.append(s)
            ok += 1
for s in list(pending):
    drop(s)
print(f"READY ok={ok} failed={failed}", flush=True)
for line in sys.stdin:
    if line.strip() == "check":
        p = select.poll()
        for s in held:
            p.register(s, select.POLLIN | select.POLLRDHUP)
        closed = len(p.poll(0))
        print(f"OPEN {ok - closed} CLOSED {closed}", flush=True)
PY
}

# ------------------------------------------------------------ the servers ---
# Keep-alive timeouts raised to 600 s and no per-connection request cap, so
# nothing is cut during the run; room for IDLE connections.
start_server() {   # start_server NAME PORT LOG (bench/lib/peers.sh starts them)
    local port=$2 logf=$3 hard
    hard=$(ulimit -Hn)
    case $1 in
        sockhost-event)
            start_sockhost_static event "" "$WORKERS" "$port" "$logf" \
                "keepalive_timeout      = 600.0     # the idle connections must outlive the run" \
                "max_keepalive_requests = 1000000   # wrk's connections are never cut" ;;
        nginx)
            start_nginx "$port" "$logf" workers="${WORKERS:-1}" nofile=$((IDLE + 4096)) \
                connections=$((IDLE + 2048)) keepalive_timeout=600s keepalive_requests=1000000 backlog=4096 ;;
        lighttpd)   # lighttpd allows max-fds / 2 connections
            start_lighttpd "$port" "$logf" "server.max-fds       = $hard" \
                "server.max-connections = $((hard / 2))" "server.max-keep-alive-idle = 600" \
                "server.max-keep-alive-requests = 1000000" "server.listen-backlog = 4096" "$LIGHTTPD_BIN_TYPE" ;;
        *) return 1 ;;
    esac
}

declare -A R
declare -a RAN=()

wrk_run() {   # wrk_run PORT OUT -> "rps p50 p99 errors"
    local port=$1 out=$2 rps p99 errs non2xx p50
    wrk_to "$out" -c"$CONNS" --latency "http://127.0.0.1:$port/1k.bin"
    read -r rps p99 _ errs non2xx p50 < <(awk -f "$BENCH/lib/parse_wrk.awk" "$out")
    echo "$rps $p50 $p99 $((errs + non2xx))"
}

run_server() {
    local name=$1 port line
    port=$(free_port) || return
    launch "$name" "$port" "$TMP/$name.log" || return
    RAN+=("$name")
    # 1. active clients alone (also brings the server to its working size)
    local a b c d
    read -r a b c d < <(wrk_run "$port" "$TMP/wrk-$name-0.txt")
    R[$name|rps0]=$a; R[$name|p50_0]=$b; R[$name|p99_0]=$c; R[$name|err0]=$d
    log "$name: without idle connections ${R[$name|rps0]} req/s, p50 ${R[$name|p50_0]} ms, p99 ${R[$name|p99_0]} ms"
    sleep 1
    R[$name|rss0]=$(tree_rss_kib "$CUR_PID")
    R[$name|thr0]=$(tree_threads "$CUR_PID")
    # 2. the idle connections
    rm -f "$TMP/holder.in"; mkfifo "$TMP/holder.in"
    local n=$IDLE cap
    if [ "$name" = lighttpd ]; then
        # lighttpd accepts at most max-fds / 2 connections and cannot raise max-fds
        # above the hard RLIMIT_NOFILE: leave room for wrk's connections
        cap=$(( $(ulimit -Hn) / 2 - CONNS - 256 ))
        if [ "$n" -gt "$cap" ]; then
            log "$name: holding $cap idle connections, not $IDLE (hard fd limit $(ulimit -Hn); lighttpd serves max-fds/2 connections)"
            n=$cap
        fi
    fi
    timeout $((DURATION + 400)) python3 "$TMP/hold_idle.py" 127.0.0.1 "$port" "$n" /1k.bin \
        <"$TMP/holder.in" >"$TMP/holder-$name.out" 2>&1 &
    HOLDER_PID=$!
    exec 7>"$TMP/holder.in"
    local i
    for ((i = 0; i < 1500; i++)); do
        grep -q '^READY' "$TMP/holder-$name.out" 2>/dev/null && break
        kill -0 "$HOLDER_PID" 2>/dev/null || break
        sleep 0.1
    done
    line=$(grep '^READY' "$TMP/holder-$name.out")
    if [ -z "$line" ]; then
        log "$name: the idle holder failed:"; tail -n 5 "$TMP/holder-$name.out" >&2
        stop_holder; stop_group "$CUR_PID"; return
    fi
    R[$name|ok]=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$line")
    R[$name|failed]=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$line")
    sleep 1
    R[$name|rss1]=$(tree_rss_kib "$CUR_PID")
    R[$name|thr1]=$(tree_threads "$CUR_PID")
    log "$name: ${R[$name|ok]} idle connections (${R[$name|failed]} failed); RSS ${R[$name|rss0]} -> ${R[$name|rss1]} KiB; threads ${R[$name|thr0]} -> ${R[$name|thr1]}"
    # 3. active clients while the idle ones are held
    read -r a b c d < <(wrk_run "$port" "$TMP/wrk-$name-1.txt")
    R[$name|rps1]=$a; R[$name|p50_1]=$b; R[$name|p99_1]=$c; R[$name|err1]=$d
    R[$name|rss2]=$(tree_rss_kib "$CUR_PID")
    echo check >&7
    sleep 1
    line=$(grep '^OPEN' "$TMP/holder-$name.out" | tail -n1)
    R[$name|open]=$(awk '{ print $2 }' <<<"$line")
    log "$name: with idle connections ${R[$name|rps1]} req/s, p50 ${R[$name|p50_1]} ms, p99 ${R[$name|p99_1]} ms; still open ${R[$name|open]:-?}"
    stop_holder
    stop_group "$CUR_PID"
}

kib_per() {   # (rss1 - rss0) / ok
    awk -v a="${R[$1|rss0]}" -v b="${R[$1|rss1]}" -v n="${R[$1|ok]}" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / n; else print "n/a" }'
}

table() {
    local s
    echo "| server | idle conns held | RSS before MiB | RSS with idle MiB | KiB per idle conn | threads before → with idle | still open after wrk |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for s in "${RAN[@]}"; do
        [ -n "${R[$s|ok]-}" ] || { echo "| $s | failed | | | | | |"; continue; }
        echo "| $s | ${R[$s|ok]} (${R[$s|failed]} failed) | $(mib "${R[$s|rss0]}") | $(mib "${R[$s|rss1]}") | $(kib_per "$s") | ${R[$s|thr0]} → ${R[$s|thr1]} | ${R[$s|open]:-?} |"
    done
    echo
    echo "| server | req/s without | req/s with idle | ratio | p50 ms without | p50 ms with | p99 ms without | p99 ms with | p99 ratio | wrk errors without / with |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for s in "${RAN[@]}"; do
        echo "| $s | ${R[$s|rps0]-} | ${R[$s|rps1]-—} | $(ratio "${R[$s|rps1]-}" "${R[$s|rps0]-}") | ${R[$s|p50_0]-} | ${R[$s|p50_1]-—} | ${R[$s|p99_0]-} | ${R[$s|p99_1]-—} | $(ratio "${R[$s|p99_1]-}" "${R[$s|p99_0]-}") | ${R[$s|err0]-} / ${R[$s|err1]-—} |"
    done
}

main() {
    local s t0=$SECONDS
    case "$IDLE$DURATION" in *[!0-9]*) die "IDLE and DURATION must be whole numbers" ;; esac
    require wrk curl python3
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockhost-idle-bench.XXXXXX") || die "mktemp"
    # both the server and the holder need an fd per idle connection
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    [ "$(ulimit -n)" -gt $((IDLE + 1024)) ] || die "ulimit -n is $(ulimit -n) (hard $(ulimit -Hn)); need > $((IDLE + 1024))"
    build_sockhost
    write_holder
    DOCROOT="$TMP/www"; mkdir -p "$DOCROOT"
    head -c 1024 /dev/urandom >"$DOCROOT/1k.bin"
    local load_before report
    load_before=$(loadavg)
    each_available run_server
    report=$(
        report_intro "sockhost idle keep-alive benchmark" "$load_before" "$(loadavg)"
        echo "- sockhost: $(sockhost_desc), http_static, concurrency = \"event\", workers ${WORKERS:-unset}, log_level = warning, keepalive_timeout = 600"
        available nginx && echo "- nginx: $(version_of nginx), worker_processes ${WORKERS:-1}, access_log off, sendfile on, keepalive_timeout 600s"
        available lighttpd && echo "- lighttpd: $(version_of lighttpd), max-keep-alive-idle 600"
        echo "- per server: \`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency\` on a 1 KiB file; RSS (VmRSS summed over the process tree) 1 s later; then $IDLE keep-alive connections each send one GET /1k.bin, read the answer and idle (a python3 holder); RSS again 1 s later; wrk again while they are held; finally how many of them the server still keeps open"
        echo "- KiB per idle conn = (RSS with idle − RSS before) / connections held: user-space memory only; the kernel's socket buffers are not in RSS"
        echo "- targets (issue 5): ≤ 20 KiB per idle connection; p99 with idle ≤ 2× p99 without"
        echo
        table
    )
    publish_report "$report"
    log "took $((SECONDS - t0)) s"
}

main "$@"
