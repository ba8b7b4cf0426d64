#!/usr/bin/env bash
# cmake --install the library into a temp prefix, then build and run
# tests/consumer against it twice: with find_package(fluss_fetch), and with
# the compiler alone and `pkg-config --cflags --libs fluss_fetch`. Both
# include the installed, generated fluss_fetch/version.hpp and print the
# project's version.
set -euo pipefail
build="${FLUSS_FETCH_BUILD_DIR:?}"
src="${FLUSS_FETCH_SOURCE_DIR:?}"
work="$(mktemp -d /tmp/fluss-fetch-consumer-XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/fluss_fetch/storage/s3_store.hpp"
test -f "$work/prefix/lib/cmake/fluss_fetch/fluss_fetchConfig.cmake"
test -f "$work/prefix/include/fluss_fetch/version.hpp" || fail "version.hpp not installed"
test -f "$work/prefix/lib/pkgconfig/fluss_fetch.pc" || fail "fluss_fetch.pc not installed"
version="$(grep -E '^CMAKE_PROJECT_VERSION:' "$build/CMakeCache.txt" | cut -d= -f2-)"
[ -n "$version" ] || fail "no CMAKE_PROJECT_VERSION in the build's cache"
grep -q "#define FLUSS_FETCH_VERSION_STRING \"$version\"" "$work/prefix/include/fluss_fetch/version.hpp" \
  || fail "version.hpp does not say $version: $(cat "$work/prefix/include/fluss_fetch/version.hpp")"
gen=()
if command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
flags="$(grep -E '^CMAKE_CXX_FLAGS:' "$build/CMakeCache.txt" | cut -d= -f2-)"
san="$(grep -E '^FLUSS_FETCH_SANITIZE:' "$build/CMakeCache.txt" | cut -d= -f2-)"
case "$san" in
  address) flags="$flags -fsanitize=address,undefined" ;;
  thread) flags="$flags -fsanitize=thread" ;;
esac

# 1. CMake: find_package(fluss_fetch).
cmake -S "$src/tests/consumer" -B "$work/build" "${gen[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$work/build" >/dev/null
mkdir -p "$work/data"
out="$("$work/build/consumer" "$work/data")"
[ "$out" = "consumer: ok, fluss_fetch $version ($(tr . ' ' <<<"$version" | awk '{print $1"."$2"."$3}'))" ] \
  || fail "find_package consumer said: $out"

# 2. pkg-config, from the installed prefix only (the .pc finds its prefix from where it is).
command -v pkg-config >/dev/null 2>&1 || fail "pkg-config is not installed (scripts/setup installs it)"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
[ "$(pkg-config --modversion fluss_fetch)" = "$version" ] || fail "pkg-config --modversion: $(pkg-config --modversion fluss_fetch)"
pc="$(pkg-config --cflags --libs fluss_fetch)" || fail "pkg-config --cflags --libs fluss_fetch failed"
grep -q -- "-I$work/prefix/include" <<<"$(pkg-config --cflags fluss_fetch | sed 's|/lib/pkgconfig/../..||')" \
  || fail "pkg-config --cflags does not point into the prefix: $(pkg-config --cflags fluss_fetch)"
cxx="$(grep -E '^CMAKE_CXX_COMPILER:' "$build/CMakeCache.txt" | cut -d= -f2-)"
# shellcheck disable=SC2086
"${cxx:-c++}" -std=c++20 $flags "$src/tests/consumer/main.cpp" -o "$work/consumer-pc" $pc \
  || fail "compiling the consumer with pkg-config's flags failed ($pc)"
mkdir -p "$work/data-pc"
out="$("$work/consumer-pc" "$work/data-pc")"
grep -q "^consumer: ok, fluss_fetch $version " <<<"$out" || fail "pkg-config consumer said: $out"
