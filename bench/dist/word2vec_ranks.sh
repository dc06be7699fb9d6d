#!/usr/bin/env bash
# `embedkit train` (word2vec, skip-gram, the settings of bench/word2vec/run.py) without mpirun
# and under `mpirun --oversubscribe -np P` (column shards or averaging, 1 thread per rank), for a few
# seeds: analogy accuracy, WordSim-353 rho (`embedkit eval`), training seconds (rank 0's clock)
# and wall seconds. BENCHMARKS.md, "word2vec across MPI processes".
#
#   bench/dist/word2vec_ranks.sh EMBEDKIT CORPUS EVAL_DIR "P..." "SYNCS_PER_EPOCH..." [SEEDS...]
#
# P 1 is the command without mpirun, "1:mpi" P = 1 under mpirun. A SYNCS_PER_EPOCH of
# "columns:B" trains over column shards (the default under mpirun, --column-batch-words B); a number
# N averages instead (--distribute average --syncs-per-epoch N).
set -euo pipefail
embedkit=$1 corpus=$2 eval_dir=$3 ranks=($4) syncs=($5)
shift 5
seeds=("$@")
[ $# -gt 0 ] || seeds=(1 2 3 4)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
settings=(--model skipgram --loss ns --dim 100 --window 5 --negative 5 --min-count 5 --epochs 5
  --lr 0.025 --sample 1e-3 --threads 1)
score() {
  "$embedkit" eval "$1" --analogies "$eval_dir/questions-words.txt" \
    --similarity "$eval_dir/wordsim353.tsv" --json | python3 -c 'import json, sys
j = json.load(sys.stdin)
print("analogy %.2f %%  rho %.4f" % (100 * j["analogies"]["total"]["accuracy"], j["similarity"]["spearman"]), end="")'
}
seconds() { python3 -c 'import json, sys; print("  train %.1f s" % json.load(sys.stdin)["seconds"], end="")'; }
for seed in "${seeds[@]}"; do
  for p in "${ranks[@]}"; do
    for s in "${syncs[@]}"; do
      [ "$p" = 1 ] && [ "$s" != "${syncs[0]}" ] && continue  # no syncs without mpirun
      out="$work/v.txt"
      start=$(date +%s.%N)
      if [ "$p" = 1 ]; then
        "$embedkit" train "$corpus" -o "$out" "${settings[@]}" --seed "$seed" --json | seconds
        label="no mpirun"
      else
        if [ "${s%%:*}" = columns ]; then
          how=(--column-batch-words "${s#columns:}")
          label="P = ${p%:mpi}, column shards, batches of ${s#columns:} words"
        else
          how=(--distribute average --syncs-per-epoch "$s")
          label="P = ${p%:mpi}, $s syncs/epoch"
        fi
        mpirun --oversubscribe -np "${p%:mpi}" "$embedkit" train "$corpus" -o "$out" \
          "${settings[@]}" --seed "$seed" "${how[@]}" --json | seconds
      fi
      wall=$(python3 -c "import time; print('%.1f' % (time.time() - $start))")
      printf '  wall %s s  seed %s  %s  ' "$wall" "$seed" "$label"
      score "$out"
      echo
    done
  done
done
