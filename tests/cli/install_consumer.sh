#!/usr/bin/env bash
# cmake --install the library into a temp prefix, then configure, build and
# run tests/consumer against it with find_package(fluss_fetch).
set -euo pipefail
build="${FLUSS_FETCH_BUILD_DIR:?}"
src="${FLUSS_FETCH_SOURCE_DIR:?}"
work="$(mktemp -d /tmp/fluss-fetch-consumer-XXXXXX)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/fluss_fetch/storage/s3_store.hpp"
test -f "$work/prefix/lib/cmake/fluss_fetch/fluss_fetchConfig.cmake"
gen=()
if command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
flags="$(grep -E '^CMAKE_CXX_FLAGS:' "$build/CMakeCache.txt" | cut -d= -f2-)"
san="$(grep -E '^FLUSS_FETCH_SANITIZE:' "$build/CMakeCache.txt" | cut -d= -f2-)"
case "$san" in
  address) flags="$flags -fsanitize=address,undefined" ;;
  thread) flags="$flags -fsanitize=thread" ;;
esac
cmake -S "$src/tests/consumer" -B "$work/build" "${gen[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$work/build" >/dev/null
mkdir -p "$work/data"
"$work/build/consumer" "$work/data"
