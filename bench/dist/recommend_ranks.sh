#!/usr/bin/env bash
# `embedkit recommend train` without mpirun and under `mpirun -np P` (P = 1, 2, 4), for a few
# seeds: test RMSE, training seconds (rank 0's clock) and whether the model file equals the
# one without mpirun (cmp). BENCHMARKS.md, "Recommender across MPI processes".
#
#   bench/dist/recommend_ranks.sh EMBEDKIT RATINGS [SEEDS...]
set -euo pipefail
embedkit=$1 ratings=$2
shift 2
seeds=("$@")
[ $# -gt 0 ] || seeds=(1 2 3)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
report() {
  python3 -c 'import json, sys
j = json.load(sys.stdin)
print("rmse %.6f  train_seconds %.2f" % (j["test"]["rmse"], j["train_seconds"]))'
}
for seed in "${seeds[@]}"; do
  printf 'seed %s  no mpirun  ' "$seed"
  "$embedkit" recommend train "$ratings" --seed "$seed" -o "$work/one.st" --json | report
  for p in 1 2 4; do
    printf 'seed %s  P = %s      ' "$seed" "$p"
    mpirun --oversubscribe -np "$p" "$embedkit" recommend train "$ratings" --seed "$seed" \
      -o "$work/p$p.st" --json | report
    cmp -s "$work/one.st" "$work/p$p.st" && echo "  model file equal to the one without mpirun" ||
      echo "  model file DIFFERS"
  done
done
