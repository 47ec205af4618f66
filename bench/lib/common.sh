# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared by the bench scripts; sourced first, after they set BENCH_TAG (the log
# prefix). Gives:
#   BENCH, ROOT                    bench/ and the repository (absolute)
#   DURATION (5), THREADS (2)      seconds per load run, wrk's threads
#   log, die, require              messages; stop unless commands are there
#   TMP, STARTED_PGIDS, stop_group process groups this script started, stopped on
#                                  exit with TMP removed (a script may define
#                                  bench_cleanup_extra to run first)
#   BUILD_DIR, BUILD, build_sockhost   the Release build (BUILD_DIR relative to
#                                  the repository or absolute; BUILD its absolute path)
#   install_missing                apt-get what is missing
#   free_port, wait_ready, wait_listening   ports and readiness
#   tree_pids, tree_rss_kib, tree_cpu_ticks  a server's process tree
#   wrk_to                         one bounded wrk run
#   median, ratio, mib             figures
#   loadavg, report_intro, publish_report   the report

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(dirname "$BENCH")
DURATION=${DURATION:-5}
THREADS=${THREADS:-2}

log() { printf '[%s %(%H:%M:%S)T] %s\n' "$BENCH_TAG" -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
require() { local c; for c; do command -v "$c" >/dev/null || die "$c is not installed"; done; }

# ------------------------------------------------- processes and clean-up ---
TMP=""
declare -a STARTED_PGIDS=()   # setsid leaders this script started
# shellcheck disable=SC2034  # the scripts' and peers.sh's
CUR_PID=""                                  # the server a start_* function just started
STOP_WAIT_TENTHS=${STOP_WAIT_TENTHS:-100}   # tenths of a second a group gets after TERM
# shellcheck disable=SC2034
SERVER_CPUS="" CLIENT_CPUS=""               # run.sh's PIN; unpinned elsewhere

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

# ------------------------------------------------------ install and build ---
BUILD_DIR=${BUILD_DIR:-build-bench}
case "$BUILD_DIR" in /*) BUILD=$BUILD_DIR ;; *) BUILD=$ROOT/$BUILD_DIR ;; esac

build_sockhost() {   # needs TMP (for the build log)
    if [ "${SKIP_BUILD:-0}" = 1 ] && [ -x "$BUILD/sockhost" ]; then
        log "reusing $BUILD_DIR (SKIP_BUILD=1)"
        return 0
    fi
    log "building Release into $BUILD_DIR (scripts/setup.sh)"
    if ! (cd "$ROOT" && timeout 2400 bash scripts/setup.sh "$BUILD_DIR" -DSOCKHOST_BUILD_TESTS=OFF) \
            >"$TMP/build.log" 2>&1; then
        tail -n 30 "$TMP/build.log" >&2
        die "build failed"
    fi
    [ -x "$BUILD/sockhost" ] || die "no $BUILD_DIR/sockhost after the build"
}

# install_missing COMMAND[:PACKAGE[,FALLBACK...]]...: apt-get install the package
# of every COMMAND that is not on PATH (the command's name when no package is
# given; a fallback is tried when the package fails). Skipped with SKIP_INSTALL=1.
install_missing() {
    [ "${SKIP_INSTALL:-0}" = 1 ] && return 0
    local spec want=() p
    local -a pkgs
    for spec; do command -v "${spec%%:*}" >/dev/null || want+=("$spec"); done
    [ ${#want[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # Debian's postinst would start nginx/lighttpd as system services on port 80;
    # forbid that for the duration of the install unless a policy already exists.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && made_policy=1
    fi
    log "installing ${want[*]#*:}"
    $sudo timeout 300 apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed (continuing)"
    for spec in "${want[@]}"; do
        IFS=, read -r -a pkgs <<<"${spec#*:}"
        for p in "${pkgs[@]}" ""; do
            [ -n "$p" ] || { log "could not install ${spec%%:*}"; break; }
            DEBIAN_FRONTEND=noninteractive $sudo timeout 600 apt-get install -y -qq --no-install-recommends "$p" \
                >/dev/null 2>&1 && break
        done
    done
    [ "$made_policy" = 1 ] && $sudo rm -f "$policy"
    return 0
}

# ------------------------------------------------------ ports, readiness ---
free_port() {   # a port on 127.0.0.1 free for both tcp and udp
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

listening() {   # listening tcp:PORT|udp:PORT|unix:PATH (checked with ss: no probe connection)
    case $1 in
        tcp:*) ss -Hltn "sport = :${1#tcp:}" 2>/dev/null | grep -q . ;;
        udp:*) ss -Hlun "sport = :${1#udp:}" 2>/dev/null | grep -q . ;;
        unix:*) [ -S "${1#unix:}" ] ;;
        *) return 1 ;;
    esac
}

wait_listening() {   # wait_listening PID TENTHS ADDR...: until every ADDR listens (TENTHS tenths of a second at most)
    local pid=$1 tenths=$2 i a ok
    shift 2
    for ((i = 0; i < tenths; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        ok=1
        for a; do listening "$a" || { ok=0; break; }; done
        [ "$ok" = 1 ] && return 0
        sleep 0.1
    done
    return 1
}

# ------------------------------------------------- a server's process tree ---
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

# ------------------------------------------------------------------- load ---
wrk_to() {   # wrk_to OUT WRK_ARG...: one wrk run (-t THREADS -d DURATION, bounded), its report in OUT;
             # on the CPUs CLIENT_CPUS when set
    local out=$1 pin=()
    shift
    [ -n "$CLIENT_CPUS" ] && pin=(taskset -c "$CLIENT_CPUS")
    timeout $((DURATION + 30)) "${pin[@]}" wrk -t"$THREADS" -d"${DURATION}s" "$@" >"$out" 2>&1
}

# ---------------------------------------------------------------- figures ---
median() {   # median FORMAT VALUE...: "-" values are left out; "-" if none is left
    printf '%s\n' "${@:2}" | grep -v '^-$' | LC_ALL=C sort -g | awk -v fmt="$1" '
        { v[NR] = $1 }
        END { if (NR == 0) print "-"
              else if (NR % 2) printf fmt "\n", v[(NR + 1) / 2]
              else printf fmt "\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {   # ratio A B: "A/Bx" with two decimals; n/a unless both are numbers and B > 0
    local n='^[0-9]+([.][0-9]*)?$'
    [[ $1 =~ $n && $2 =~ $n ]] || { echo "n/a"; return; }
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx\n", a / b; else print "n/a" }'
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f\n", k / 1024 }'; }   # mib KIB

# ----------------------------------------------------------------- report ---
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
utc_now() { date -u '+%Y-%m-%d %H:%M UTC'; }
machine() { echo "$(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"; }

report_intro() {   # report_intro TITLE LOAD_BEFORE LOAD_AFTER: the title and the date, machine, load lines
    echo "# $1"
    echo
    echo "- date: $(utc_now)"
    echo "- machine: $(machine)"
    echo "- load average before / after: $2 / $3"
}

publish_report() {   # publish_report TEXT: print it; write it to $RESULTS unless that is empty
    echo
    echo "$1"
    if [ -n "${RESULTS:-}" ]; then
        mkdir -p "$(dirname "$RESULTS")"
        printf '%s\n' "$1" >"$RESULTS"
        log "written to ${RESULTS#"$ROOT"/}"
    fi
}
