#!/usr/bin/env bash
# `mpirun -np P embedkit recommend train` (tools/embedkit/recommend_mpi.hpp) on generated
# ratings: the job trains, rank 0 alone reports and writes the model (once: no other file
# appears), the model loads (`recommend eval`), and it equals the model of the command run
# without mpirun byte for byte: at every P for the rating objective; for BPR at P = 1 only (at
# P > 1 the owners sum a row's positive and negative terms in another order). --write-split is
# written by rank 0 alone, and equals the one-process split; a bad ratings file and a diverging
# run stop every rank with the error and write nothing; an unwritable output stops the job before
# training.
#
#   recommend_test.sh RANKS WORK_DIR EMBEDKIT MPIEXEC NP_FLAG [MPIEXEC_FLAGS...]
set -euo pipefail

ranks=$1 work=$2 embedkit=$3 mpiexec=$4 np_flag=$5
shift 5
flags=("$@")
train_args=(--epochs 3 --dim 8 --batch-size 64 --seed 5)

fail() {
  echo "FAIL (P = $ranks): $*" >&2
  exit 1
}

rm -rf "$work"
mkdir -p "$work"
cd "$work"
# 60 users x 90 items, explicit ratings (MovieLens CSV) and implicit pairs.
awk 'BEGIN { srand(7); print "userId,movieId,rating,timestamp";
             for (k = 0; k < 3000; k++) printf "%d,%d,%.1f,%d\n", int(rand() * 60),
                 int(rand() * 90), 1 + int(rand() * 9) / 2, 1000 + k }' >ratings.csv
awk 'BEGIN { srand(8); for (k = 0; k < 2000; k++) printf "u%d i%d\n", int(rand() * 50),
                 int(rand() * 80) }' >pairs.txt

for data in ratings.csv pairs.txt; do
  name=${data%.*}
  mkdir -p "one-$name" "mpi-$name"
  # The reference: the command without mpirun (no MPI launcher's variables).
  env -u OMPI_COMM_WORLD_SIZE -u PMI_SIZE -u PMIX_RANK "$embedkit" recommend train "$data" \
    -o "one-$name/model.safetensors" --write-split "one-$name/split" "${train_args[@]}" \
    >"one-$name.log" ||
    fail "the command without mpirun failed on $data"
  timeout 120 "$mpiexec" "$np_flag" "$ranks" "${flags[@]}" "$embedkit" recommend train "$data" \
    -o "mpi-$name/model.safetensors" --write-split "mpi-$name/split" "${train_args[@]}" \
    >"mpi-$name.log" 2>&1 ||
    { cat "mpi-$name.log"; fail "mpirun -np $ranks embedkit recommend train $data failed"; }
  cat "mpi-$name.log"
  [ "$(grep -c '^trained ' "mpi-$name.log")" = 1 ] || fail "the summary is not printed once"
  unit="MPI ranks"
  [ "$ranks" = 1 ] && unit="MPI rank"
  grep -q "$ranks $unit (sharded tables)" "mpi-$name.log" || fail "the summary does not say P"
  [ "$(ls -A "mpi-$name" | tr '\n' ' ')" = "model.safetensors split " ] ||
    fail "other files than the model and the split: $(ls -A "mpi-$name")"
  [ "$(ls -A "mpi-$name/split" | tr '\n' ' ')" = "test.csv train.csv " ] ||
    fail "other files in the split: $(ls -A "mpi-$name/split")"
  cmp "one-$name/split/train.csv" "mpi-$name/split/train.csv" || fail "another split"
  "$embedkit" recommend eval "mpi-$name/model.safetensors" "$data" >/dev/null ||
    fail "the model written under mpirun does not load"
  if [ "$name" = ratings ] || [ "$ranks" = 1 ]; then
    cmp "one-$name/model.safetensors" "mpi-$name/model.safetensors" ||
      fail "the model of $data differs from the one-process command's"
    echo "$data: the model equals the one-process command's byte for byte"
  fi
done

# A ratings file with a bad line: every rank fails, mpirun exits non-zero with the error, and no
# model is written.
printf 'userId,movieId,rating,timestamp\n1,2,4.0,10\n3,4,not-a-rating,11\n' >bad.csv
mkdir bad
status=0
timeout 120 "$mpiexec" "$np_flag" "$ranks" "${flags[@]}" "$embedkit" recommend train bad.csv \
  -o bad/model.safetensors "${train_args[@]}" >bad.log 2>&1 || status=$?
cat bad.log
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "a bad ratings file: status $status"
grep -q "embedkit recommend: error: bad.csv" bad.log || fail "no error naming the file"
[ -z "$(ls -A bad)" ] || fail "a bad ratings file left files: $(ls -A bad)"
echo "a bad ratings file: every rank stops with the error, nothing written"

# Training that diverges stops every rank at the same batch (the batch's loss is summed over the
# ranks) with the one-process error, and writes nothing.
status=0
timeout 120 "$mpiexec" "$np_flag" "$ranks" "${flags[@]}" "$embedkit" recommend train ratings.csv \
  -o bad/model.safetensors --lr 1e30 --optimizer sparse-adam >diverged.log 2>&1 || status=$?
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "a diverging run: status $status"
grep -q "training diverged at epoch 1" diverged.log || { cat diverged.log; fail "no divergence error"; }
[ -z "$(ls -A bad)" ] || fail "a diverging run left files: $(ls -A bad)"
echo "a diverging run: every rank stops with the error, nothing written"

# An output that cannot be written (its directory does not exist) fails before training, as it
# does without mpirun, and nothing is written.
status=0
timeout 120 "$mpiexec" "$np_flag" "$ranks" "${flags[@]}" "$embedkit" recommend train ratings.csv \
  -o no-such-dir/model.safetensors "${train_args[@]}" >unwritable.log 2>&1 || status=$?
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "an unwritable output: status $status"
grep -q "embedkit recommend: error: .*no-such-dir" unwritable.log ||
  { cat unwritable.log; fail "no error naming the output"; }
! grep -q "recommend train:" unwritable.log || fail "an unwritable output was found after training"
[ ! -e no-such-dir ] || fail "an unwritable output left files"
echo "an unwritable output: the job stops before training"
