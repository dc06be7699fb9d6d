#!/usr/bin/env bash
# Memory-mapped tables against reading the file (BENCHMARKS.md, "Memory-mapped tables").
#   bench/mapped/run.sh BUILD_DIR WORKDIR [ROWS DIM]
# BUILD_DIR holds libembedkit.a and the embedkit command (a Release build); WORKDIR gets the
# generated vectors (ROWS x DIM float32: 1,000,000 x 256 = 1.02 GB by default, plus a .vec text
# copy of about 2.5 GB) and the bench program. Cold runs drop the files' pages from the page
# cache first (posix_fadvise DONTNEED, which needs no root).
set -eu
build=$(cd "$1" && pwd)
work=$2
rows=${3:-1000000}
dim=${4:-256}
src=$(cd "$(dirname "$0")/../.." && pwd)
cli="$build/tools/embedkit/embedkit"
mkdir -p "$work"
c++ -O2 -std=c++20 -I"$src/include" "$src/bench/mapped/mapped_bench.cpp" "$build/libembedkit.a" \
  -lz -pthread -o "$work/mapped_bench"
bench="$work/mapped_bench"
[ -f "$work/v.npy" ] || "$bench" make "$work/v" "$rows" "$dim"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
ls -l "$work"/v.npy "$work"/v.safetensors "$work"/v.vec
word=w12345

warm() { cat "$@" > /dev/null; }
cold() { for f in "$@"; do "$bench" evict "$f"; done; }
cli_ms() {  # the wall time of one `embedkit similar FILE WORD -k 10`, in ms
  local start end
  start=$(date +%s%N)
  "$cli" similar "$1" "$word" -k 10 > /dev/null
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

echo "== first answer (library: open, KeyedVectors, most_similar)"
for cache in warm cold; do
  for run in "v.npy load" "v.npy map" "v.safetensors load" "v.safetensors map"; do
    set -- $run
    files="$work/$1"
    [ "$1" = v.npy ] && files="$files $work/v.vocab"
    $cache $files
    echo "-- $cache $1 $2: $("$bench" first "$work/$1" "$word" "$2" | tr '\n' ' ')"
  done
done
warm "$work/v.vec"
echo "-- warm v.vec load (text parse): $("$bench" first "$work/v.vec" "$word" load | tr '\n' ' ')"

echo "== first answer of a mapped v.npy from a cold page cache, by madvise hint"
for advice in normal random sequential willneed; do
  cold "$work/v.npy" "$work/v.vocab"
  echo "-- cold map $advice: $("$bench" first "$work/v.npy" "$word" map "$advice" | tr '\n' ' ')"
done

echo "== first answer (embedkit similar FILE $word -k 10, whole command, wall ms)"
for f in v.vec v.npy v.safetensors; do
  warm "$work/$f"
  echo "-- warm $f: $(cli_ms "$work/$f") ms"
done

echo "== page cache: 2000 single-row lookups at random rows of the mapped v.npy"
for advice in normal random sequential willneed; do
  cold "$work/v.npy"
  echo "-- cold $advice: $("$bench" lookups "$work/v.npy" 2000 "$advice" | tr '\n' ' ')"
  echo "-- warm $advice: $("$bench" lookups "$work/v.npy" 2000 "$advice" | tr '\n' ' ')"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
