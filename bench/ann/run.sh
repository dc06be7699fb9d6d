#!/usr/bin/env bash
# Approximate neighbours (HNSW) against the exact search (BENCHMARKS.md, "Approximate nearest
# neighbours").
#   bench/ann/run.sh BUILD_DIR WORKDIR [ROWS DIM CLUSTERS RANK QUERIES M EF_CONSTRUCTION THREADS EFS]
# BUILD_DIR holds libembedkit.a (a Release build); WORKDIR gets the bench program and the saved
# index (about 0.6 GB at 1M x 100). The defaults are the figures' settings: 1,000,000 x 100
# generated vectors (ann_bench.cpp says how), 200 queries, M = 16, ef_construction = 100, the
# build on 2 threads, searched at ef = 10, 20, 40, 80 and 160.
set -eu
build=$(cd "$1" && pwd)
work=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work"
c++ -O2 -std=c++20 -I"$src/include" "$src/bench/ann/ann_bench.cpp" "$build/libembedkit.a" \
  -lz -pthread -o "$work/ann_bench"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
"$work/ann_bench" "${3:-1000000}" "${4:-100}" "${5:-1000}" "${6:-16}" "${7:-200}" "${8:-16}" \
  "${9:-100}" "${10:-2}" "$work/v.hnsw" "${11:-10,20,40,80,160}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
