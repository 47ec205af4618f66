#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds bench/echo's two tools (not part of the CMake build):
#   bench/echo/build.sh [OUT_DIR]      (default: bench/echo/bin)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/bin}
mkdir -p "$out"
CXX=${CXX:-g++}
CC=${CC:-gcc}
$CXX -std=c++20 -O2 -Wall -Wextra -pthread "$here/echo_load.cpp" -o "$out/echo_load"
$CC -std=gnu11 -O2 -Wall -Wextra -pthread "$here/c_echo.c" -o "$out/c_echo"
echo "built $out/echo_load $out/c_echo"
