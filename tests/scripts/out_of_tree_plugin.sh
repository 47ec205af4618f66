#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# out_of_tree_plugin.sh BUILD_DIR SOURCE_DIR
#
# The plugin author's path, end to end: install the SDK from BUILD_DIR into a
# temporary prefix, build examples/uppercase as its own CMake project against
# that prefix (find_package(sockhost) + sockhost_add_plugin), then have the
# host from BUILD_DIR --check a config using the result and serve one
# request with it ("hello\n" -> "HELLO\n"), and stop on SIGTERM with exit 0.
# Every wait is bounded; the temporary directory is always removed.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
HOST_BIN="$BUILD/sockhost"
CACHE="$BUILD/CMakeCache.txt"

TMP=$(mktemp -d /tmp/sockhost-oot.XXXXXX)
HOST_PID=
cleanup() {
  if [[ -n "$HOST_PID" ]] && kill -0 "$HOST_PID" 2>/dev/null; then
    kill -KILL "$HOST_PID" 2>/dev/null || true
    wait "$HOST_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

step() { echo "== $*"; }
fail() {
  echo "FAIL: $*" >&2
  if [[ -f "$TMP/host.log" ]]; then
    echo "--- host log:" >&2
    cat "$TMP/host.log" >&2
  fi
  exit 1
}
# cache_value NAME: a variable from the main build's CMakeCache.txt ("" if unset).
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$CACHE" | head -n 1; }

[[ -x "$HOST_BIN" ]] || fail "no host binary at $HOST_BIN (build the main tree first)"
[[ -f "$CACHE" ]] || fail "$BUILD is not a CMake build directory"

# (a) Install the SDK (and host) into a fresh prefix.
step "install $BUILD -> $TMP/prefix"
timeout 120 cmake --install "$BUILD" --prefix "$TMP/prefix" > "$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; fail "cmake --install failed"; }
SDK_LIB=$(find "$TMP/prefix" -name 'libsockhost_sdk.so.2' | head -n 1)
[[ -n "$SDK_LIB" ]] || fail "the install has no libsockhost_sdk.so.2"
[[ -n $(find "$TMP/prefix" -name sockhostConfig.cmake) ]] || fail "the install has no sockhostConfig.cmake"

# (b) Build the example as a separate project. Same compiler as the host (the
# host checks the plugin's toolchain fingerprint) and the same sanitizer, as
# the main build applies one sanitizer setting to everything it builds.
cxx_flags=
if [[ $(cache_value SOCKHOST_ASAN) == ON ]]; then
  cxx_flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
elif [[ $(cache_value SOCKHOST_TSAN) == ON ]]; then
  cxx_flags="-fsanitize=thread -fno-omit-frame-pointer"
fi
configure_args=(-S "$SRC/examples/uppercase" -B "$TMP/build"
                -DCMAKE_PREFIX_PATH="$TMP/prefix"
                -DCMAKE_BUILD_TYPE=Debug
                -DCMAKE_CXX_COMPILER="$(cache_value CMAKE_CXX_COMPILER)")
generator=$(cache_value CMAKE_GENERATOR)
[[ -n "$generator" ]] && configure_args+=(-G "$generator")
if [[ -n "$cxx_flags" ]]; then
  configure_args+=(-DCMAKE_CXX_FLAGS="$cxx_flags" -DCMAKE_MODULE_LINKER_FLAGS="${cxx_flags%% *}")
fi
step "configure examples/uppercase against the installed SDK${cxx_flags:+ ($cxx_flags)}"
timeout 120 cmake "${configure_args[@]}" > "$TMP/configure.log" 2>&1 ||
  { cat "$TMP/configure.log" >&2; fail "configuring examples/uppercase failed"; }
step "build examples/uppercase"
timeout 180 cmake --build "$TMP/build" > "$TMP/build.log" 2>&1 ||
  { cat "$TMP/build.log" >&2; fail "building examples/uppercase failed"; }
PLUGIN="$TMP/build/libuppercase.so"
[[ -f "$PLUGIN" ]] || fail "the build produced no $PLUGIN"
# It must use the installed SDK, not the one in the main build tree.
grep -rqF -- "$SRC/sdk" "$TMP/build" && fail "the example's build refers to the source tree's SDK ($SRC/sdk)"
if command -v ldd > /dev/null; then
  resolved=$(ldd "$PLUGIN" | sed -n 's/^[[:space:]]*libsockhost_sdk\.so\.2 => \([^ ]*\).*/\1/p')
  [[ "$(realpath "${resolved:-/nonexistent}" 2>/dev/null)" == "$(realpath "$SDK_LIB")" ]] ||
    fail "libuppercase.so resolves libsockhost_sdk.so.2 to '${resolved:-nothing}', not $SDK_LIB"
fi

cat > "$TMP/servers.toml" <<TOML
[host]
plugins_dir = "$TMP"
log_level = "info"

[[server]]
name = "upper"
listen = "tcp://127.0.0.1:0"
plugin = "$PLUGIN"
concurrency = "threading"
TOML

# (c) --check loads and validates the plugin, binds nothing.
step "sockhost --check"
check_out=$(timeout 30 "$HOST_BIN" --config "$TMP/servers.toml" --check 2>&1) ||
  { echo "$check_out" >&2; fail "sockhost --check exited non-zero"; }
grep -q "config OK" <<< "$check_out" || { echo "$check_out" >&2; fail "--check did not say 'config OK'"; }

# The installed host (bin/ next to lib/) finds the installed SDK and accepts
# the plugin too.
INSTALLED_HOST="$TMP/prefix/bin/sockhost"
if [[ -x "$INSTALLED_HOST" ]]; then
  step "installed sockhost --check"
  check_out=$(timeout 30 "$INSTALLED_HOST" --config "$TMP/servers.toml" --check 2>&1) ||
    { echo "$check_out" >&2; readelf -d "$INSTALLED_HOST" 2>/dev/null | grep -i path >&2 || true
      fail "the installed sockhost failed (does its RUNPATH reach the installed libsockhost_sdk.so.2?)"; }
  grep -q "config OK" <<< "$check_out" || { echo "$check_out" >&2; fail "installed --check did not say 'config OK'"; }
fi

# ... and a real request.
step "serve one request"
"$HOST_BIN" --config "$TMP/servers.toml" > /dev/null 2> "$TMP/host.log" &
HOST_PID=$!
port=
for _ in $(seq 200); do
  port=$(sed -n 's|.*server upper listening on tcp://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$TMP/host.log" | head -n 1)
  [[ -n "$port" ]] && break
  kill -0 "$HOST_PID" 2>/dev/null || fail "the host exited before listening"
  sleep 0.1
done
[[ -n "$port" ]] || fail "no 'server upper listening on tcp://127.0.0.1:PORT' within 20 s"

timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "hello\n" >&3 && cat <&3' _ "$port" \
  > "$TMP/reply" || fail "the request failed or timed out"
printf 'HELLO\n' | cmp -s - "$TMP/reply" || fail "expected 'HELLO\\n', got '$(od -c "$TMP/reply" | head -n 3)'"

step "SIGTERM"
kill -TERM "$HOST_PID"
for _ in $(seq 200); do
  kill -0 "$HOST_PID" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$HOST_PID" 2>/dev/null && fail "the host still runs 20 s after SIGTERM"
rc=0
wait "$HOST_PID" || rc=$?
HOST_PID=
[[ $rc -eq 0 ]] || fail "the host exited with $rc after SIGTERM, not 0"

echo "PASS: out-of-tree uppercase plugin built against the installed SDK and served a request"
