#!/usr/bin/env bash
# Install smoke test: installs a built embedkit into a temporary prefix, then configures, builds
# and runs tests/install (a tiny project that uses it through find_package(embedkit)).
#
# Usage: tests/install/run.sh <embedkit build directory>
set -euo pipefail

build=$(cd "${1:?usage: run.sh <embedkit build directory>}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/embedkit-install-smoke.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cache_value() {  # the value of a variable in the build's CMakeCache.txt, or empty
  sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"
}

# Build the consumer the way the library was built: same compiler, and the sanitizer runtime
# when the library was instrumented (a static libembedkit needs it at link time).
args=(-DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release)
compiler=$(cache_value CMAKE_CXX_COMPILER)
[[ -n $compiler ]] && args+=(-DCMAKE_CXX_COMPILER="$compiler")
if [[ $(cache_value EMBEDKIT_SANITIZE) =~ ^(ON|TRUE|1|YES)$ ]]; then
  args+=(-DCMAKE_CXX_FLAGS="-fsanitize=address,undefined"
         -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined")
fi
command -v ninja >/dev/null && args+=(-G Ninja)

cmake --install "$build" --prefix "$tmp/prefix"
cmake -S "$here" -B "$tmp/build" "${args[@]}"
cmake --build "$tmp/build"
"$tmp/build/consumer"
