#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Failed requests while the configuration changes under a steady load:
# sockhost stopped and started again (the only way before reloads), a SIGHUP
# reload, a SIGUSR2 binary upgrade, and nginx -s reload for reference; and the
# time from the signal until the new configuration answers. See bench/README.md.
#
# Each case: the server serves DOCROOT/1k.bin on 127.0.0.1:PORT; wrk loads it
# for DURATION seconds (-c CONNS); EVENTS changes are spread over the run. A
# change adds a listening port to the configuration (another each time) and
# signals the server; "to new config" is the time from the signal until that
# port answers (for a restart: until PORT answers again). Failed requests are
# what wrk counts: connect, read, write and timeout errors, and non-2xx
# answers. Mode "close" sends Connection: close (a connection per request:
# every refused connection shows); mode "keepalive" keeps wrk's connections
# (wrk does not retry a request on a keep-alive connection the server closed
# idle, as browsers do, so a drain shows there too, for every server).
#
#   bench/reload_bench.sh
#   EVENTS=10 DURATION=12 bench/reload_bench.sh
#
# Environment (all optional):
#   DURATION=10 EVENTS=4 CONNS=32 THREADS=2
#   CASES="restart hup usr2 nginx"   MODES="close keepalive"
#   SKIP_INSTALL=1 SKIP_BUILD=1 BUILD_DIR=build-bench   (as bench/run.sh)
#   RESULTS=bench/results/reload.md   "" = don't write
set -euo pipefail
BENCH_TAG=reload
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=SCRIPTDIR/lib/peers.sh
source "$(dirname "$0")/lib/peers.sh"

DURATION=${DURATION:-10}
EVENTS=${EVENTS:-4}
CONNS=${CONNS:-32}
CASES=${CASES:-restart hup usr2 nginx}
MODES=${MODES:-close keepalive}
RESULTS=${RESULTS-$ROOT/bench/results/reload.md}

# Until 127.0.0.1:PORT answers 200 (30 s at most): the milliseconds it took from START_NS.
answer_ms() {   # answer_ms PORT START_NS
    local i
    for i in $(seq 1 6000); do
        if curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$1/1k.bin" 2>/dev/null | grep -q 200; then
            echo $(( ($(date +%s%N) - $2) / 1000000 ))
            return
        fi
        sleep 0.005
    done
    echo "-"
}

sockhost_conf() {   # sockhost_conf PORT EXTRA_PORT...: the config, a [[server]] per port
    local port
    sockhost_conf_host 1
    echo 'shutdown_timeout = 5'
    echo 'pid_file = "sockhost.pid"'
    for port; do
        sockhost_conf_server "s$port" "tcp://127.0.0.1:$port" http_static event 1 "directory = \"$DOCROOT\""
    done
}

nginx_servers() {   # nginx_servers PORT...: the server blocks
    local port
    for port; do echo "    server { listen 127.0.0.1:$port; root $DOCROOT; }"; done
}

# run_case CASE MODE: one wrk run with EVENTS changes; prints "REQUESTS FAILED MEDIAN_MS".
run_case() {
    local case=$1 mode=$2 port extra=() ms=() hdr=() out="$TMP/wrk-$1-$2.txt" conf pidfile i start
    port=$(free_port)
    [ "$mode" = close ] && hdr=(-H 'Connection: close')
    case $case in
        nginx)
            start_nginx "$port" "$TMP/nginx-$case-$mode.log"
            conf="$TMP/nginx-$port/nginx.conf"
            ;;
        *)
            conf="$TMP/sockhost-$case-$mode.toml"
            sockhost_conf "$port" >"$conf"
            cp "$BUILD/sockhost" "$TMP/sockhost-bin.new" && mv "$TMP/sockhost-bin.new" "$TMP/sockhost-bin"
            setsid "$TMP/sockhost-bin" --config "$conf" >"$TMP/sockhost-$case-$mode.log" 2>&1 &
            CUR_PID=$!
            ;;
    esac
    STARTED_PGIDS+=("$CUR_PID")
    [ "$(answer_ms "$port" "$(date +%s%N)")" != "-" ] || die "$case did not start"
    wrk_to "$out" -c"$CONNS" --latency "${hdr[@]}" "http://127.0.0.1:$port/1k.bin" &
    local wrk_pid=$! gap
    gap=$(awk -v d="$DURATION" -v e="$EVENTS" 'BEGIN { printf "%.2f", d / (e + 1) }')
    for i in $(seq 1 "$EVENTS"); do
        sleep "$gap"
        extra+=("$(free_port)")
        start=$(date +%s%N)
        case $case in
            restart)
                kill -TERM "$CUR_PID"
                wait "$CUR_PID" 2>/dev/null || true
                setsid "$TMP/sockhost-bin" --config "$conf" >>"$TMP/sockhost-$case-$mode.log" 2>&1 &
                CUR_PID=$!
                STARTED_PGIDS+=("$CUR_PID")
                ms+=("$(answer_ms "$port" "$start")")
                continue
                ;;
            hup|usr2)
                sockhost_conf "$port" "${extra[@]}" >"$conf"
                if [ "$case" = usr2 ]; then
                    cp "$BUILD/sockhost" "$TMP/sockhost-bin.new" && mv "$TMP/sockhost-bin.new" "$TMP/sockhost-bin"
                    kill -USR2 "$CUR_PID"
                else
                    kill -HUP "$CUR_PID"
                fi
                ;;
            nginx)
                sed -i '/^    server {/d' "$conf"
                sed -i "s|^}\$|$(nginx_servers "$port" "${extra[@]}" | sed 's/$/\\n/' | tr -d '\n')}|" "$conf"
                nginx -p "$TMP/nginx-$port" -c "$conf" -s reload 2>>"$TMP/nginx-$case-$mode.log"
                ;;
        esac
        ms+=("$(answer_ms "${extra[-1]}" "$start")")
    done
    wait "$wrk_pid" || true
    stop_group "$CUR_PID"
    local parsed requests errors non2xx
    parsed=$(awk -f "$BENCH/lib/parse_wrk.awk" "$out")
    read -r _ _ requests errors non2xx _ <<<"$parsed"
    echo "$requests $((errors + non2xx)) $(median '%.0f' "${ms[@]}")"
}

main() {
    TMP=$(mktemp -d /tmp/sockhost-reload-bench.XXXXXX)
    [ -n "${SKIP_INSTALL:-}" ] || install_missing wrk nginx curl
    require wrk curl
    [ -n "${SKIP_BUILD:-}" ] || build_sockhost
    DOCROOT="$TMP/www"
    mkdir -p "$DOCROOT"
    head -c 1024 /dev/urandom >"$DOCROOT/1k.bin"
    local load_before rows="" case mode result
    load_before=$(loadavg)
    for case in $CASES; do
        [ "$case" = nginx ] && ! command -v nginx >/dev/null && continue
        for mode in $MODES; do
            log "$case, $mode: $DURATION s of wrk -c$CONNS, $EVENTS changes"
            result=$(run_case "$case" "$mode")
            log "$case, $mode: $result (requests, failed, median ms to the new config)"
            read -r requests failed median_ms <<<"$result"
            rows+="| $case | $mode | $requests | $failed | $(awk -v f="$failed" -v e="$EVENTS" 'BEGIN { printf "%.1f", f / e }') | $median_ms |"$'\n'
        done
    done
    local text
    text="$(report_intro "sockhost: failed requests while the configuration changes" "$load_before" "$(loadavg)")

- sockhost: $(sockhost_desc || true); nginx: $(version_of nginx || true); wrk: $(version_of wrk || true)
- load: wrk -t$THREADS -c$CONNS -d${DURATION}s on 127.0.0.1 (1 KiB file); $EVENTS changes per run, each adding a listening port
- restart: SIGTERM, wait for exit, start again (what a change needed before reloads); hup: SIGHUP; usr2: SIGUSR2 with the binary replaced; nginx: nginx -s reload (1 worker)

| case | mode | requests | failed | failed per change | ms to the new config (median) |
|---|---|---:|---:|---:|---:|
$rows"
    publish_report "$text"
}

main "$@"
