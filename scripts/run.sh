#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Quick start: install, build (Release) and run sockhost on the shipped servers.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
# Build only what is served: the sockhost binary and the shipped plugins (each
# folder of plugins/ with a CMakeLists.txt is a plugin target of that name).
# scripts/test.sh builds everything, tests included.
targets=(--target sockhost)
for list in plugins/*/CMakeLists.txt; do
  dir=${list%/CMakeLists.txt}
  targets+=(--target "${dir#plugins/}")
done
scripts/setup.sh "${targets[@]}" build
exec build/sockhost --config servers.toml "$@"
