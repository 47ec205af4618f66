#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing (Debian 12, apt only) and builds sockhost.
#   scripts/setup.sh [--target NAME]... [BUILD_DIR] [extra cmake args...]
# BUILD_DIR defaults to ./build (servers.toml's plugins_dir points there).
# Without --target everything is built (host, SDK, plugins, tests); each
# --target NAME builds only that CMake target and what it depends on.
# netcat-openbsd and curl are for the commands the README and docs/ show.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=()
while [ $# -gt 0 ] && [ "$1" = --target ]; do
  if [ $# -lt 2 ]; then echo "setup: --target needs a CMake target name" >&2; exit 2; fi
  targets+=(--target "$2")
  shift 2
done

packages=(cmake make g++ libboost-dev libboost-program-options-dev libtomlplusplus-dev
          libgtest-dev libgmock-dev media-types python3 netcat-openbsd curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_dir=${1:-build}
shift || true
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" > /dev/null
cmake --build "$build_dir" -j"$(nproc)" "${targets[@]}"
