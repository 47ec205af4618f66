#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Quick start: install, build (Release) and run sockhost on the shipped servers.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec build/sockhost --config servers.toml "$@"
