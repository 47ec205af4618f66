#!/bin/sh
# SPDX-License-Identifier: MIT
# The shell counterpart of hello.c for bench/cgi_bench.sh (adds /bin/sh start-up).
printf 'Content-Type: text/plain\r\n\r\nhello from sh, query=%s\n' "$QUERY_STRING"
