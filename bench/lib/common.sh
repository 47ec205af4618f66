# SPDX-License-Identifier: MIT
# Shared by the bench scripts; sourced after they set ROOT, BUILD_DIR and
# BENCH_TAG (the log prefix). Gives: log, die; TMP and STARTED_PGIDS (process
# groups this script started, stopped on exit with TMP removed; a script may
# define bench_cleanup_extra to run first); stop_group; build_sockhost
# (Release into BUILD_DIR, or reuse it with SKIP_BUILD=1); free_port;
# tree_pids, tree_rss_kib, tree_cpu_ticks; wait_ready (a server answers 200); publish_report (print the
# report, write it to RESULTS when set).

log() { printf '[%s %(%H:%M:%S)T] %s\n' "$BENCH_TAG" -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

TMP=""
declare -a STARTED_PGIDS=()   # setsid leaders this script started
CUR_PID=""
STOP_WAIT_TENTHS=${STOP_WAIT_TENTHS:-100}   # tenths of a second a group gets after TERM

stop_group() {   # stop_group PID: TERM the group, wait (bounded), KILL what is left
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM -- "-$pid" 2>/dev/null
    for ((i = 0; i < STOP_WAIT_TENTHS; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    # the leader may be gone with children (nginx workers, forked handlers) left
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    if declare -F bench_cleanup_extra >/dev/null; then bench_cleanup_extra; fi
    for pid in "${STARTED_PGIDS[@]}"; do stop_group "$pid"; done
    [ -n "$TMP" ] && [ -d "$TMP" ] && rm -rf -- "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

build_sockhost() {   # needs TMP (for the build log)
    if [ "${SKIP_BUILD:-0}" = 1 ] && [ -x "$ROOT/$BUILD_DIR/sockhost" ]; then
        log "reusing $BUILD_DIR (SKIP_BUILD=1)"
        return 0
    fi
    log "building Release into $BUILD_DIR (scripts/setup.sh)"
    if ! (cd "$ROOT" && timeout 2400 bash scripts/setup.sh "$BUILD_DIR" -DSOCKHOST_BUILD_TESTS=OFF) \
            >"$TMP/build.log" 2>&1; then
        tail -n 30 "$TMP/build.log" >&2
        die "build failed"
    fi
    [ -x "$ROOT/$BUILD_DIR/sockhost" ] || die "no $BUILD_DIR/sockhost after the build"
}

free_port() {   # a free TCP port on 127.0.0.1
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

tree_pids() {   # PID and all its descendants, one a line
    ps -e -o pid=,ppid= | awk -v r="$1" '
        { parent[$1] = $2; all[NR] = $1 }
        END { keep[r] = 1; ch = 1
              while (ch) { ch = 0; for (i in all) { p = all[i]; if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; ch = 1 } } }
              for (p in keep) print p }'
}

tree_rss_kib() {   # sum of VmRSS (KiB) over PID and all its descendants
    local p total=0 v
    for p in $(tree_pids "$1"); do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        [ -n "$v" ] && total=$((total + v))
    done
    echo "$total"
}

tree_cpu_ticks() {   # CPU time (user + system, clock ticks) used so far by PID and its descendants,
                     # their threads and the children they have reaped (forked handlers)
    local p
    for p in $(tree_pids "$1"); do
        # the fields after the ")" that ends the command name (which may hold spaces):
        # utime stime cutime cstime are the 12th to the 15th
        sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null
    done | awk '{ t += $12 + $13 + $14 + $15 } END { printf "%d\n", t }'
}

wait_ready() {   # wait_ready PID PORT [PATH]: until GET PATH (/1k.bin) answers 200 (15 s at most)
    local pid=$1 port=$2 path=${3:-/1k.bin} i code
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port$path" 2>/dev/null)
        [ "$code" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}

publish_report() {   # publish_report TEXT: print it; write it to $RESULTS unless that is empty
    echo
    echo "$1"
    if [ -n "${RESULTS:-}" ]; then
        printf '%s\n' "$1" >"$RESULTS"
        log "written to ${RESULTS#"$ROOT"/}"
    fi
}

median() {   # median FORMAT VALUE...: "-" values are left out; "-" if none is left
    printf '%s\n' "${@:2}" | grep -v '^-$' | LC_ALL=C sort -g | awk -v fmt="$1" '
        { v[NR] = $1 }
        END { if (NR == 0) print "-"
              else if (NR % 2) printf fmt "\n", v[(NR + 1) / 2]
              else printf fmt "\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
