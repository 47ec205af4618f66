#!/bin/sh
# SPDX-License-Identifier: MIT
# Demo CGI script: prints its environment (RFC 3875 meta-variables) as text.
printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n'
echo "CGI environment of $SCRIPT_NAME (pid $$, uid $(id -u)):"
echo
env | LC_ALL=C sort
