#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The long tests (SPEC "Tests that take long"): everything labelled `slow`
# (crash loops, SIGTERM loops, soaks) on the Release build. CI does not run
# them; run this before a release and after touching the process model.
#   scripts/test_slow.sh            the slow-labelled tests
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh build
(cd build && ctest --output-on-failure -j"$jobs" --timeout 1800 -L slow --no-tests=error)
