#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A deterministic regression figure: instructions per HTTP request, counted by
# valgrind --tool=callgrind, plus where they go. See bench/README.md.
#
# For each model in MODELS, sockhost (Release, http_static, no workers) runs
# twice under callgrind:
#   baseline: start, WARMUP keep-alive GETs of a 1 KiB file on one connection, stop
#   measured: start, WARMUP + REQUESTS GETs on one connection, stop
# instructions per request = (Ir measured - Ir baseline) / REQUESTS, so start-up,
# warm-up (first open of the file, MIME table, lazy binding) and shutdown cancel
# out. The same difference is taken per function (inclusive and self cost), and
# system calls per request come from --collect-systime (sysCount).
#
#   bench/callgrind.sh
#   REQUESTS=5000 MODELS=event bench/callgrind.sh
#
# Environment (all optional):
#   REQUESTS=2000 WARMUP=200   MODELS="sync event"   TOP=15
#   SKIP_BUILD=1 BUILD_DIR=build-bench   reuse the Release build as it is (BUILD_DIR
#                                        relative to the repository or absolute)
#   RESULTS=bench/results/callgrind.md   "" = don't write
#   KEEP_RAW=DIR   keep the callgrind.out files (for kcachegrind / callgrind_annotate)
set -uo pipefail

BENCH_TAG=callgrind
STOP_WAIT_TENTHS=600   # callgrind writes its output at exit
source "$(dirname "$0")/lib/common.sh"   # ROOT, BENCH, ...
source "$BENCH/lib/peers.sh"

REQUESTS=${REQUESTS:-2000}
WARMUP=${WARMUP:-200}
MODELS=${MODELS:-"sync event"}
TOP=${TOP:-15}
RESULTS=${RESULTS-$BENCH/results/callgrind.md}

write_client() {   # one connection, COUNT sequential keep-alive GETs, each answer read in full
    cat >"$TMP/client.py" <<'PY'
import socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=60)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
req = b"GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
buf = b""
for i in range(count):
    s.sendall(req)
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            sys.exit(f"closed by the server after {i} answers")
        buf += d
    head, _, buf = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit("unexpected answer: " + head.split(b"\r\n")[0].decode(errors="replace"))
    length = next(int(l.split(b":", 1)[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
    while len(buf) < length:
        d = s.recv(65536)
        if not d:
            sys.exit("closed mid-body")
        buf += d
    buf = buf[length:]
s.close()
print(f"ok {count}")
PY
}

one_run() {   # one_run MODEL COUNT OUT: sockhost under callgrind, COUNT GETs; writes OUT
    local model=$1 count=$2 out=$3 port conf pid
    port=$(free_port)
    conf="$TMP/sockhost-$model.toml"
    {
        sockhost_conf_host ""
        sockhost_conf_server bench "tcp://127.0.0.1:$port" http_static "$model" "" \
            "directory              = \"$DOCROOT\"" "max_keepalive_requests = 1000000"
    } >"$conf"
    start_sockhost "$conf" "$out.log" valgrind --tool=callgrind --collect-systime=nsec --callgrind-out-file="$out"
    pid=$CUR_PID
    STARTED_PGIDS+=("$pid")
    # ready = listening (checked with ss, so no probe connection is counted)
    if ! wait_listening "$pid" 600 "tcp:$port"; then
        tail -n 20 "$out.log" >&2; die "$model: sockhost under valgrind did not listen"
    fi
    timeout 300 python3 "$TMP/client.py" "$port" "$count" >"$out.client" 2>&1 \
        || { cat "$out.client" >&2; die "$model: client failed"; }
    sleep 1   # the server sees the close and parks/ends the connection
    stop_group "$pid"
    [ -s "$out" ] || { tail -n 20 "$out.log" >&2; die "$model: no callgrind output"; }
}

totals() {   # totals FILE -> "Ir sysCount sysTime"
    awk '/^totals:/ { t = $2 " " $3 " " $4 } /^summary:/ && t == "" { s = $2 " " $3 " " $4 }
         END { print (t != "" ? t : s) }' "$1"
}

# Per-function difference (measured - baseline) / REQUESTS, inclusive and self,
# from callgrind_annotate's full lists; and the self cost grouped by kind.
diff_table() {   # diff_table BASE MEAS
    local base=$1 meas=$2
    callgrind_annotate --auto=no --show=Ir --inclusive=yes --threshold=100 "$base" >"$base.incl" 2>/dev/null
    callgrind_annotate --auto=no --show=Ir --inclusive=yes --threshold=100 "$meas" >"$meas.incl" 2>/dev/null
    callgrind_annotate --auto=no --show=Ir --inclusive=no --threshold=100 "$base" >"$base.self" 2>/dev/null
    callgrind_annotate --auto=no --show=Ir --inclusive=no --threshold=100 "$meas" >"$meas.self" 2>/dev/null
    python3 - "$base" "$meas" "$REQUESTS" "$TOP" <<'PY'
import re, sys
base, meas, n, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
line_re = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$")
def load(path):
    costs, started = {}, False
    for line in open(path, errors="replace"):
        if "file:function" in line:
            started = True
            continue
        if not started:
            continue
        if not line.strip():
            if costs:
                break
            continue
        m = line_re.match(line)
        if not m:
            continue
        name = m.group(2).strip()
        obj = re.search(r"\s+\[([^\]]*)\]$", name)
        if obj:
            name = name[: obj.start()]
        name = re.sub(r"^\?\?\?:", "", name)
        name = re.sub(r"^[^:\s]+:(?!:)", "", name)
        if obj and not name.startswith(("sockhost", "std::")):
            name += " (" + obj.group(1).rsplit("/", 1)[-1] + ")"
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs
def diff(kind):
    b, m = load(f"{base}.{kind}"), load(f"{meas}.{kind}")
    return {k: (m.get(k, 0) - b.get(k, 0)) / n for k in set(b) | set(m)}
def short(name, width=110):
    name = name.replace("std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string")
    name = name.replace("std::basic_string_view<char, std::char_traits<char> >", "std::string_view")
    name = name.replace("|", "\\|")
    return name if len(name) <= width else name[: width - 1] + "…"
incl, self_ = diff("incl"), diff("self")
total = sum(v for v in self_.values())
def top_table(title, pct_title, pct_fmt, costs):
    print(title)
    print()
    print(f"| Ir / request | {pct_title} | function |")
    print("|---:|---:|---|")
    for k, v in sorted(costs.items(), key=lambda kv: -kv[1])[:top]:
        pct = f" {100 * v / total:{pct_fmt}}% " if total > 0 else " "
        print(f"| {v:,.0f} |{pct}| `{short(k)}` |")
    print()
top_table(f"Top {top} functions by inclusive cost, instructions per request (measured − baseline) / {n}:",
          "% of request", ".0f", incl)
top_table(f"Top {top} functions by self cost (instructions executed in the function itself) per request:",
          "%", ".1f", self_)
groups = [
    ("allocation (malloc/free/new/delete)", r"malloc|free\b|_int_free|_int_malloc|operator new|operator delete|realloc|calloc|tcache|unlink_chunk|malloc_consolidate|cfree"),
    ("system-call wrappers (user-space side only)", r"^(__libc_)?(read|write|writev|sendfile|sendfile64|recv|recvfrom|send|sendmsg|sendto|epoll_wait|epoll_ctl|accept4?|close|fstat|fstatat|newfstatat|openat|open|open64|statx|__fstat|__GI___|syscall|poll|ppoll|fcntl|setsockopt|getsockopt|clock_gettime|__clock_gettime|__vdso|futex)|(^|::)(syscall|__internal_syscall)"),
    ("formatting (printf, to_chars, time, Date)", r"printf|vfprintf|to_chars|strftime|gmtime|localtime|__tz|format|__mpn|_itoa|__printf_fp|num_put|ostream|Date|date"),
    ("parsing (HTTP request, headers, URL, path)", r"[Pp]arse|parser|header|Header|unquote|percent|decode|split|tokenize|ascii|iequal|tolower|url|Url|URL|path|Path"),
    ("memory/string primitives (memcpy, strlen, memchr, compare)", r"mem(cpy|move|set|chr|cmp|rchr)|str(len|chr|cmp|ncmp|rchr)|__memcpy|__memmove|__memset|__strlen|__memchr|__memcmp|basic_string|string_view|char_traits"),
    ("locks and threads (mutex, condition, atomic)", r"pthread|mutex|cond|lock|Lock|atomic|futex"),
]
cat = {g: 0.0 for g, _ in groups}
cat["other"] = 0.0
for k, v in self_.items():
    for g, rx in groups:
        if re.search(rx, k):
            cat[g] += v
            break
    else:
        cat["other"] += v
print("Self cost per request grouped by function name (a rough regex classification, first match wins):")
print()
print("| kind | Ir / request | % |")
print("|---|---:|---:|")
for g, v in sorted(cat.items(), key=lambda kv: -kv[1]):
    print(f"| {g} | {v:,.0f} | {100 * v / total:.0f}% |" if total > 0 else f"| {g} | {v:,.0f} | |")
PY
}

main() {
    local m t0=$SECONDS
    case "$REQUESTS$WARMUP$TOP" in *[!0-9]*) die "REQUESTS, WARMUP, TOP must be whole numbers" ;; esac
    require valgrind callgrind_annotate python3 ss
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockhost-callgrind.XXXXXX") || die "mktemp"
    build_sockhost
    write_client
    DOCROOT="$TMP/www"; mkdir -p "$DOCROOT"
    head -c 1024 /dev/zero | tr '\0' 'x' >"$DOCROOT/1k.bin"   # fixed content: same bytes every run
    touch -d '2026-01-01 00:00:00 UTC' "$DOCROOT/1k.bin"
    local sections="" b_ir b_sc b_st m_ir m_sc m_st per sc st summary=""
    for m in $MODELS; do
        log "$m: baseline ($WARMUP requests)"
        one_run "$m" "$WARMUP" "$TMP/cg-$m-base.out"
        log "$m: measured ($WARMUP + $REQUESTS requests)"
        one_run "$m" $((WARMUP + REQUESTS)) "$TMP/cg-$m-meas.out"
        read -r b_ir b_sc b_st < <(totals "$TMP/cg-$m-base.out")
        read -r m_ir m_sc m_st < <(totals "$TMP/cg-$m-meas.out")
        per=$(awk -v a="$m_ir" -v b="$b_ir" -v n="$REQUESTS" 'BEGIN { printf "%.0f", (a - b) / n }')
        sc=$(awk -v a="$m_sc" -v b="$b_sc" -v n="$REQUESTS" 'BEGIN { printf "%.1f", (a - b) / n }')
        st=$(awk -v a="$m_st" -v b="$b_st" -v n="$REQUESTS" 'BEGIN { printf "%.1f", (a - b) / n / 1000 }')
        log "$m: $per instructions/request, $sc system calls/request"
        summary+="| $m | $(printf "%'d" "$b_ir" 2>/dev/null || echo "$b_ir") | $(printf "%'d" "$m_ir" 2>/dev/null || echo "$m_ir") | **$per** | $sc | $st |"$'\n'
        sections+=$'\n'"## concurrency = \"$m\""$'\n\n'"$(diff_table "$TMP/cg-$m-base.out" "$TMP/cg-$m-meas.out")"$'\n'
        if [ -n "${KEEP_RAW:-}" ]; then mkdir -p "$KEEP_RAW" && cp "$TMP"/cg-"$m"-*.out "$KEEP_RAW"/; fi
    done
    local report
    report=$(
        echo "# sockhost instructions per request (callgrind)"
        echo
        echo "- date: $(utc_now); $(valgrind --version); machine: $(machine)"
        echo "- sockhost: $(sockhost_desc), http_static, workers unset, log_level = warning (no access log)"
        echo "- request set: one keep-alive connection from a python3 client (TCP_NODELAY), \`GET /1k.bin HTTP/1.1\` one at a time, each 200 answer read in full; baseline = $WARMUP requests, measured = $WARMUP + $REQUESTS"
        echo "- Ir / request = (Ir measured − Ir baseline) / $REQUESTS: user-space instructions of the whole process (all threads), start-up and shutdown cancel out; the kernel's work is not counted — see syscalls / request and their time (--collect-systime=nsec, wall time inside the system call under valgrind, noisy)"
        echo
        echo "| model | Ir baseline | Ir measured | Ir / request | syscalls / request | µs in syscalls / request |"
        echo "|---|---:|---:|---:|---:|---:|"
        printf '%s' "$summary"
        echo "$sections"
    )
    publish_report "$report"
    log "took $((SECONDS - t0)) s"
}

main "$@"
