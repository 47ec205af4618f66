#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install, build and run the whole test suite: the Release build, then the
# same suite built with AddressSanitizer + UndefinedBehaviorSanitizer.
# SOCKHOST_TEST_SANITIZERS=0 skips the sanitizer pass; =tsan adds ThreadSanitizer.
# Tests labelled `slow` (long loads, fuzzing) run from scripts/test_slow.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh build
(cd build && ctest --output-on-failure -j"$jobs" --timeout 300 -LE slow)

case "${SOCKHOST_TEST_SANITIZERS:-asan}" in
  0|none) ;;
  *)
    scripts/setup.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DSOCKHOST_ASAN=ON
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       ctest --output-on-failure -j"$jobs" --timeout 300 -LE slow)
    ;;
esac
if [ "${SOCKHOST_TEST_SANITIZERS:-}" = "tsan" ]; then
  scripts/setup.sh build-tsan -DCMAKE_BUILD_TYPE=Debug -DSOCKHOST_TSAN=ON
  # TSan cannot follow threads started after fork() (the forking model), and
  # must let a plugin that crashes on purpose (a test) die of its signal.
  (cd build-tsan && TSAN_OPTIONS=die_after_fork=0:halt_on_error=1:handle_segv=0 ctest --output-on-failure -j"$jobs" --timeout 300 -LE slow)
fi
