#!/usr/bin/env bash
# quantize -cutoff with and without -retrain, fastText's against embedkit's, on SST-2 with
# bigrams: each tool trains its own model (dim 100, 25 epochs, lr 0.5, word n-grams 2, BUCKETS
# buckets, THREADS threads); each model is quantized with -qnorm -cutoff CUTOFF, then again with
# -retrain on the training file at the training's epochs and lr (given on both command lines:
# fastText's quantize defaults to epoch 5 and lr 0.05, and a .bin does not store its lr).
# embedkit also quantizes fastText's .bin. Prints, per row, the file's size, P@1 on the SST-2
# test set and the quantize time (wall, and CPU = user + system from /usr/bin/time).
#
#   bench/quantized_models/retrain.sh [DATA_DIR] [EMBEDKIT] [FASTTEXT] [THREADS] [CUTOFF] [BUCKETS]
#
# DATA_DIR holds sst2/sentiment-{train,test} (default ../shared/data/classification).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-../shared/data/classification}
embedkit=${2:-build/tools/embedkit/embedkit}
fasttext=${3:-fasttext}
threads=${4:-2}
cutoff=${5:-10000}
buckets=${6:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$here/../classify/convert.sh" "$data" "$work"
train=$work/sst2.train
test=$work/sst2.test
timed() {
  /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" > /dev/null 2>&1
  awk '{ printf "%.1f %.1f\n", $1, $2 + $3 }' "$work/time"
}
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.2f", b / 1e6 }'; }
ft_p1() { "$fasttext" test "$1" "$test" 1 | awk '$1 == "P@1" { printf "%.4f", $2 }'; }

"$fasttext" supervised -input "$train" -output "$work/ft" -dim 100 -epoch 25 -lr 0.5 \
  -wordNgrams 2 -bucket "$buckets" -thread "$threads" -verbose 0 > /dev/null
"$embedkit" classify train "$train" -o "$work/ek.safetensors" --dim 100 --epochs 25 --lr 0.5 \
  --word-ngrams 2 --buckets "$buckets" --threads "$threads" > /dev/null 2>&1
cp "$work/ft.bin" "$work/ftr.bin"

q=(-qnorm -cutoff "$cutoff")
r=(-retrain -input "$train" -epoch 25 -lr 0.5)
echo "quantize options: ${q[*]}, retrain: -epoch 25 -lr 0.5 (threads $threads, buckets $buckets)"
row() { printf '%-46s %7s %8s %8s %8s\n' "$@"; }
row model MB P@1 "wall s" "CPU s"
row "fastText supervised (.bin)" "$(mb "$work/ft.bin")" "$(ft_p1 "$work/ft.bin")" - -
row "embedkit classify train (.safetensors)" "$(mb "$work/ek.safetensors")" \
  "$("$embedkit" classify test "$work/ek.safetensors" "$test" | awk -F'\t' '$1 == "P@1" { print $2 }')" - -
read -r wall cpu < <(timed "$fasttext" quantize -output "$work/ft" -input "$train" \
  -thread "$threads" "${q[@]}")
row "fasttext quantize, cutoff" "$(mb "$work/ft.ftz")" "$(ft_p1 "$work/ft.ftz")" "$wall" "$cpu"
read -r wall cpu < <(timed "$fasttext" quantize -output "$work/ftr" -thread "$threads" "${q[@]}" \
  "${r[@]}")
row "fasttext quantize, cutoff + retrain" "$(mb "$work/ftr.ftz")" "$(ft_p1 "$work/ftr.ftz")" \
  "$wall" "$cpu"
for model in ft.bin ek.safetensors; do
  read -r wall cpu < <(timed "$embedkit" quantize "$work/$model" -o "$work/c.ftz" \
    -thread "$threads" "${q[@]}")
  row "embedkit quantize of $model, cutoff" "$(mb "$work/c.ftz")" "$(ft_p1 "$work/c.ftz")" \
    "$wall" "$cpu"
  read -r wall cpu < <(timed "$embedkit" quantize "$work/$model" -o "$work/r.ftz" \
    -thread "$threads" "${q[@]}" "${r[@]}")
  row "embedkit quantize of $model, cutoff + retrain" "$(mb "$work/r.ftz")" \
    "$(ft_p1 "$work/r.ftz")" "$wall" "$cpu"
done
