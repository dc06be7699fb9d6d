#!/usr/bin/env bash
# `mpirun -np P embedkit train` (tools/embedkit/train_mpi.hpp: word2vec by data parallelism,
# the ranks' tables combined a few times an epoch, or over column shards of the tables) on a
# generated corpus with planted structure: 8 topics of 8 words, every sentence drawn from one
# topic. For skip-gram and for CBOW with subwords averaged, and for skip-gram and CBOW with
# hierarchical softmax and subwords (two threads a rank) over column shards (the default), the job
# trains, rank 0 alone reports and writes (once: no other file appears); averaged at P = 1 the
# vectors equal the command's without mpirun byte for byte (1 thread; column shards score a batch
# at once, which one process does not); at
# every P they place a word nearer its topic's words than the others: Spearman's rho between
# the vectors' cosine and "same topic" (1 or 0) over all word pairs is above 0.45 (0 by chance;
# 0.544 when every same-topic pair is nearer than every other pair: the 0/1 ties cap it). An
# empty and an unreadable corpus stop every rank with one error and write nothing.
#
#   word2vec_test.sh RANKS WORK_DIR EMBEDKIT MPIEXEC NP_FLAG [MPIEXEC_FLAGS...]
set -euo pipefail

ranks=$1 work=$2 embedkit=$3 mpiexec=$4 np_flag=$5
shift 5
flags=("$@")
common=(--dim 16 --window 3 --negative 4 --min-count 1 --sample 0 --epochs 4 --seed 5)

fail() {
  echo "FAIL (P = $ranks): $*" >&2
  exit 1
}
no_launcher() { env -u OMPI_COMM_WORLD_SIZE -u PMI_SIZE -u PMIX_RANK "$@"; }
under_mpirun() { timeout 120 "$mpiexec" "$np_flag" "$ranks" "${flags[@]}" "$@"; }

rm -rf "$work"
mkdir -p "$work"
cd "$work"
awk 'BEGIN { srand(11); for (s = 0; s < 3000; s++) { t = int(rand() * 8); line = "";
             for (k = 0; k < 8; k++) line = line sprintf("%sw%d_%d", k ? " " : "", t,
                                                         int(rand() * 8));
             print line } }' >corpus.txt
# Every pair of the 64 words: 1 when they share a topic, 0 otherwise.
awk 'BEGIN { for (a = 0; a < 64; a++) for (b = a + 1; b < 64; b++)
               printf "w%d_%d\tw%d_%d\t%d\n", int(a / 8), a % 8, int(b / 8), b % 8,
                      int(a / 8) == int(b / 8) }' >pairs.tsv

check_quality() {  # VECTORS
  local rho
  rho=$("$embedkit" eval "$1" --similarity pairs.tsv | sed -n 's/^similarity: spearman \([-0-9.]*\),.*/\1/p')
  echo "$1: spearman $rho against the planted topics"
  awk -v r="$rho" 'BEGIN { exit !(r > 0.45) }' || fail "$1: rho $rho is not above 0.45"
}

for variant in skipgram cbow-subwords skipgram-columns cbow-hs-columns; do
  how="data parallel"
  case $variant in
    skipgram)
      args=(--model skipgram --threads 1 --distribute average --syncs-per-epoch 3) out=vectors.txt
      files="vectors.txt "
      ;;
    cbow-subwords)
      args=(--model cbow --minn 2 --maxn 3 --buckets 500 --threads 1 --distribute average
        --syncs-per-epoch 3)
      out=model.bin files="model.bin model.vec "
      ;;
    skipgram-columns)  # the default
      args=(--model skipgram --threads 1 --column-batch-words 40) out=vectors.txt
      files="vectors.txt "
      how="column shards"
      ;;
    cbow-hs-columns)
      args=(--model cbow --loss hs --minn 2 --maxn 3 --buckets 500 --distribute columns
        --column-batch-words 40 --threads 2)
      out=model.bin files="model.bin model.vec " how="column shards"
      ;;
  esac
  mkdir -p "one-$variant" "mpi-$variant"
  no_launcher "$embedkit" train corpus.txt -o "one-$variant/$out" "${common[@]}" "${args[@]}" \
    >"one-$variant.log" || fail "the command without mpirun failed ($variant)"
  under_mpirun "$embedkit" train corpus.txt -o "mpi-$variant/$out" "${common[@]}" "${args[@]}" \
    >"mpi-$variant.log" 2>&1 ||
    { cat "mpi-$variant.log"; fail "mpirun -np $ranks embedkit train failed ($variant)"; }
  cat "mpi-$variant.log"
  [ "$(grep -c '^wrote ' "mpi-$variant.log")" = 1 ] || fail "the summary is not printed once"
  unit="MPI ranks"
  [ "$ranks" = 1 ] && unit="MPI rank"
  grep -q "$ranks $unit ($how)" "mpi-$variant.log" || fail "the summary does not say P and how"
  [ "$(ls -A "mpi-$variant" | tr '\n' ' ')" = "$files" ] ||
    fail "other files than the output: $(ls -A "mpi-$variant")"
  if [ "$ranks" = 1 ] && [ "$how" = "data parallel" ]; then
    for f in $files; do
      cmp "one-$variant/$f" "mpi-$variant/$f" || fail "$variant: $f differs from the command's"
    done
    echo "$variant: the output equals the one-process command's byte for byte"
  fi
  check_quality "mpi-$variant/${files%% *}"
done

# A bad corpus (empty; unreadable: a directory) stops every rank with one error; nothing is
# written.
: >empty.txt
mkdir -p bad unreadable
for corpus in empty.txt unreadable; do
  status=0
  under_mpirun "$embedkit" train "$corpus" -o bad/vectors.txt "${common[@]}" >bad.log 2>&1 ||
    status=$?
  cat bad.log
  [ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "$corpus: status $status"
  [ "$(grep -c "embedkit train: error: .*$corpus" bad.log)" = 1 ] ||
    fail "$corpus: not one error naming the corpus"
  [ -z "$(ls -A bad)" ] || fail "$corpus left files: $(ls -A bad)"
  echo "$corpus: every rank stops, one error, nothing written"
done

# Training that diverges (averaged: every rank at its own point of an epoch; over column shards:
# every rank at the same point) stops every rank at the next collective, one rank prints the
# error, and nothing is written.
for distribute in average columns; do
  status=0
  under_mpirun "$embedkit" train corpus.txt -o bad/vectors.txt "${common[@]}" --lr 1e30 \
    --distribute "$distribute" >diverged.log 2>&1 || status=$?
  cat diverged.log
  [ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "a diverging run ($distribute): status $status"
  [ "$(grep -c "embedkit train: error: training diverged" diverged.log)" = 1 ] ||
    fail "a diverging run ($distribute): not one divergence error"
  [ -z "$(ls -A bad)" ] || fail "a diverging run ($distribute) left files: $(ls -A bad)"
  echo "a diverging run ($distribute): every rank stops, one error, nothing written"
done
