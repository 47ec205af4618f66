# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The servers the bench scripts start: one copy of each, parameterised where
# the scripts differ. Sourced after bench/lib/common.sh. Every start_* runs
# its server in the foreground of a new session (setsid, so its whole process
# group can be stopped), on 127.0.0.1 only, logging to LOG, and sets CUR_PID;
# the files it writes (configs, nginx's temp dirs) go to TMP. Gives:
#   sockhost_conf_host, sockhost_conf_server   sockhost's TOML, table by table
#   start_sockhost CONF LOG [WRAPPER...]       sockhost --config CONF (under WRAPPER, e.g. valgrind)
#   start_sockhost_static MODEL THREADS WORKERS PORT LOG [OPTION...]   http_static on DOCROOT
#   start_nginx PORT LOG [KEY=VALUE...]        nginx serving DOCROOT
#   start_lighttpd PORT LOG [LINE...]          lighttpd serving DOCROOT
#   start_python PORT LOG [ARG...]             python3 -m http.server in DOCROOT
#   start_python_forking PORT LOG              socketserver.ForkingMixIn + SimpleHTTPRequestHandler
#   find_python, available NAME, launch NAME PORT LOG [READY...], each_available FN
#   version_of PROGRAM, sockhost_desc          for the reports
# DOCROOT is the directory served; the scripts set it.

DOCROOT=""
PYTHON=""
# shellcheck disable=SC2034  # for the scripts
# lighttpd's config line that serves the benchmark's .bin files as nginx's default_type does
LIGHTTPD_BIN_TYPE='mimetype.assign      = ( ".bin" => "application/octet-stream" )'

# --------------------------------------------------------------- sockhost ---
sockhost_conf_host() {   # sockhost_conf_host WORKERS: the [host] table ("" or 0: no workers)
    echo "[host]"
    echo "plugins_dir = \"$BUILD/plugins\""
    echo "log_level   = \"warning\"   # no access log, like nginx's access_log off"
    case $1 in ''|0) ;; *) echo "workers     = $1" ;; esac
}

# sockhost_conf_server NAME LISTEN PLUGIN MODEL THREADS [OPTION...]: a [[server]]
# table (THREADS "": the model's default); OPTIONs are "key = value" lines of
# its [server.options].
sockhost_conf_server() {
    echo
    echo "[[server]]"
    echo "name        = \"$1\""
    echo "listen      = \"$2\""
    echo "plugin      = \"$3\""
    echo "concurrency = \"$4\""
    [ -n "$5" ] && echo "threads     = $5"
    if [ $# -gt 5 ]; then
        echo "  [server.options]"
        printf '  %s\n' "${@:6}"
    fi
}

start_sockhost() {   # start_sockhost CONF LOG [WRAPPER...]
    local conf=$1 logf=$2
    shift 2
    setsid "$@" "$BUILD/sockhost" --config "$conf" >"$logf" 2>&1 &
    CUR_PID=$!
}

# start_sockhost_static MODEL THREADS WORKERS PORT LOG [OPTION...]: http_static
# serving DOCROOT on 127.0.0.1:PORT, concurrency MODEL; OPTIONs are added to
# its [server.options].
start_sockhost_static() {
    local model=$1 threads=$2 workers=$3 port=$4 logf=$5
    local conf="$TMP/sockhost-$model-$port.toml"
    shift 5
    {
        sockhost_conf_host "$workers"
        sockhost_conf_server bench "tcp://127.0.0.1:$port" http_static "$model" "$threads" \
            "directory = \"$DOCROOT\"" "$@"
    } >"$conf"
    start_sockhost "$conf" "$logf"
}

# ------------------------------------------------------------------ nginx ---
# start_nginx PORT LOG [KEY=VALUE...]: nginx serving DOCROOT with sendfile and
# tcp_nopush on. KEYs (default): workers (1) = worker_processes, connections
# (1024) = worker_connections, nofile = worker_rlimit_nofile, access_log (off;
# on: to a file), keepalive_timeout, keepalive_requests, backlog = listen's;
# those without a default are left to nginx unless given.
start_nginx() {
    local port=$1 logf=$2 d="$TMP/nginx-$1" kv user_line=""
    local -A o=([workers]=1 [connections]=1024 [nofile]="" [access_log]=off
                [keepalive_timeout]="" [keepalive_requests]="" [backlog]="")
    shift 2
    for kv; do
        [[ -v o[${kv%%=*}] ]] || die "start_nginx: unknown setting $kv"
        o[${kv%%=*}]=${kv#*=}
    done
    [ "${o[access_log]}" = on ] && o[access_log]="$d/access.log"
    mkdir -p "$d"
    [ "$(id -u)" -eq 0 ] && user_line="user root;"
    cat >"$d/nginx.conf" <<EOF
$user_line
worker_processes ${o[workers]};
${o[nofile]:+worker_rlimit_nofile ${o[nofile]};}
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections ${o[connections]}; }
http {
    access_log ${o[access_log]};
    sendfile on;
    tcp_nopush on;
    ${o[keepalive_timeout]:+keepalive_timeout ${o[keepalive_timeout]};}
    ${o[keepalive_requests]:+keepalive_requests ${o[keepalive_requests]};}
    default_type application/octet-stream;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    server { listen 127.0.0.1:$port${o[backlog]:+ backlog=${o[backlog]}}; root $DOCROOT; }
}
EOF
    setsid nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;' >"$logf" 2>&1 &
    CUR_PID=$!
}

# --------------------------------------------------------------- lighttpd ---
# start_lighttpd PORT LOG [LINE...]: lighttpd -D serving DOCROOT, every LINE
# added to its config (server.max-fds, modules, keep-alive limits, ...).
start_lighttpd() {
    local port=$1 logf=$2 d="$TMP/lighttpd-$1"
    shift 2
    mkdir -p "$d"
    {
        echo "server.document-root = \"$DOCROOT\""
        echo "server.bind          = \"127.0.0.1\""
        echo "server.port          = $port"
        echo "server.errorlog      = \"$d/error.log\""
        printf '%s\n' "$@"
    } >"$d/lighttpd.conf"
    setsid lighttpd -D -f "$d/lighttpd.conf" >"$logf" 2>&1 &
    CUR_PID=$!
}

# ----------------------------------------------------------------- python ---
find_python() {   # PYTHON = python3's real executable (not a pyenv shim), "" when there is none
    PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)
}

start_python() {   # start_python PORT LOG [ARG...]: python3 -m http.server ARG... (ThreadingHTTPServer) run in DOCROOT;
                   # its per-request access log goes to stderr -> LOG
    local port=$1 logf=$2
    shift 2
    (cd "$DOCROOT" && exec setsid "$PYTHON" -m http.server "$@" --bind 127.0.0.1 "$port") >"$logf" 2>&1 &
    CUR_PID=$!
}

start_python_forking() {   # start_python_forking PORT LOG: Python's forking peer
    local port=$1 logf=$2
    setsid "$PYTHON" -c '
import functools, http.server, socketserver, sys
class Server(socketserver.ForkingMixIn, http.server.HTTPServer):
    pass
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])
Server(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
' "$port" "$DOCROOT" >"$logf" 2>&1 &
    CUR_PID=$!
}

# ------------------------------------------------ starting a named server ---
available() {   # available NAME: whether the program behind the server NAME is here
    case $1 in
        sockhost|sockhost-*) [ -x "$BUILD/sockhost" ] ;;
        python|python-*) [ -n "$PYTHON" ] ;;
        nginx|nginx-*) command -v nginx >/dev/null ;;
        lighttpd) command -v lighttpd >/dev/null ;;
        *) return 1 ;;
    esac
}

each_available() {   # each_available FN: FN NAME for every NAME in SERVERS that is available, the others skipped
    local s
    for s in $SERVERS; do
        if available "$s"; then "$1" "$s"; else log "$s: not available, skipped"; fi
    done
}

# launch NAME PORT LOG [READY_FN ARG...]: start_server NAME PORT LOG (the
# script's table of its servers), its process group stopped on exit; then
# READY_FN PID ARG... (default: wait_ready PID PORT, GET /1k.bin answers 200).
# Sets CUR_PID; if it does not come up: its log's tail, stopped, returns 1.
launch() {
    local name=$1 port=$2 logf=$3
    shift 3
    [ $# -gt 0 ] || set -- wait_ready "$port"
    log "$name: starting on 127.0.0.1:$port"
    CUR_PID=""
    start_server "$name" "$port" "$logf" || { log "$name: unknown server"; return 1; }
    STARTED_PGIDS+=("$CUR_PID")
    "$1" "$CUR_PID" "${@:2}" && return 0
    log "$name: did not come up; log:"
    tail -n 20 "$logf" >&2
    stop_group "$CUR_PID"
    return 1
}

# ---------------------------------------------------------------- reports ---
version_of() {   # version_of nginx|lighttpd|wrk|python|sockhost
    case $1 in
        nginx) nginx -v 2>&1 | sed 's/^nginx version: //' ;;
        lighttpd) lighttpd -v 2>&1 | head -n1 | awk '{print $1}' ;;
        wrk) wrk -v 2>&1 | head -n1 | awk '{print $1, $2}' ;;
        python) "$PYTHON" --version 2>&1 ;;
        sockhost) "$BUILD/sockhost" --version 2>&1 | head -n1 ;;
    esac
}

sockhost_desc() {   # "VERSION (git REV, Release, BUILD_DIR)"
    echo "$(version_of sockhost) (git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), Release, $BUILD_DIR)"
}
