# SPDX-License-Identifier: MIT
# Reads one `wrk --latency` report on stdin and prints one line:
#   RPS P99_MS REQUESTS SOCKET_ERRORS NON2XX P50_MS
# Fields wrk did not print come out as "-" (RPS, P99) or 0 (counts).
# SOCKET_ERRORS = connect + read + write + timeout.
function to_ms(v,    n, u) {
    n = v + 0
    u = v
    sub(/^[0-9.]+/, "", u)
    if (u == "us") return n / 1000
    if (u == "ms") return n
    if (u == "s")  return n * 1000
    if (u == "m")  return n * 60000
    if (u == "h")  return n * 3600000
    return n
}
BEGIN { rps = "-"; p99 = "-"; p50 = "-"; reqs = 0; errs = 0; non2xx = 0; in_dist = 0 }
/Latency Distribution/ { in_dist = 1; next }
in_dist && $1 == "50%" { p50 = sprintf("%.2f", to_ms($2)); next }
in_dist && $1 == "99%" { p99 = sprintf("%.2f", to_ms($2)); in_dist = 0; next }
/ requests in / { reqs = $1 + 0 }
/Socket errors:/ {
    # Socket errors: connect 0, read 12, write 0, timeout 0
    line = $0
    gsub(/,/, "", line)
    n = split(line, f, " ")
    for (i = 1; i < n; i++)
        if (f[i] == "connect" || f[i] == "read" || f[i] == "write" || f[i] == "timeout")
            errs += f[i + 1] + 0
}
/Non-2xx or 3xx responses:/ { non2xx = $NF + 0 }
/^Requests\/sec:/ { rps = sprintf("%.0f", $2) }
END { print rps, p99, reqs, errs, non2xx, p50 }
