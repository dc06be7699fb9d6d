#!/usr/bin/env bash
# fastText's quantize against `embedkit quantize` on SST-2 with bigrams: each tool trains its own
# model (dim 100, 25 epochs, lr 0.5, word n-grams 2, the default 2M buckets, THREADS threads), and
# each model is quantized with the same settings; embedkit also quantizes fastText's own .bin, so
# one row compares the two quantizers on the same model. Prints, per row, the model's size, P@1
# on the SST-2 test set and the quantize time (reading the model and writing the .ftz included):
# wall clock, and CPU seconds (user + system, all threads) from /usr/bin/time, which a loaded
# machine disturbs less.
#
#   bench/quantized_models/ftz.sh [DATA_DIR] [EMBEDKIT] [FASTTEXT] [THREADS] [QUANTIZE_OPTIONS...]
#
# DATA_DIR holds sst2/sentiment-{train,test} (default ../shared/data/classification);
# QUANTIZE_OPTIONS, in fastText's spelling, default to "-qnorm -cutoff 100000" (-dsub 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-../shared/data/classification}
embedkit=${2:-build/tools/embedkit/embedkit}
fasttext=${3:-fasttext}
threads=${4:-2}
shift $(($# < 4 ? $# : 4))
options=("$@")
[ ${#options[@]} -gt 0 ] || options=(-qnorm -cutoff 100000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$here/../classify/convert.sh" "$data" "$work"
train=$work/sst2.train
test=$work/sst2.test
# timed COMMAND...: runs it, output discarded; prints "wall cpu" seconds.
timed() {
  /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" > /dev/null
  awk '{ printf "%.1f %.1f\n", $1, $2 + $3 }' "$work/time"
}
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }
ft_p1() { "$fasttext" test "$1" "$test" 1 | awk '$1 == "P@1" { printf "%.4f", $2 }'; }
ek_p1() { "$embedkit" classify test "$1" "$test" | awk -F'\t' '$1 == "P@1" { print $2 }'; }

"$fasttext" supervised -input "$train" -output "$work/ft" -dim 100 -epoch 25 -lr 0.5 \
  -wordNgrams 2 -thread "$threads" -verbose 0 > /dev/null
"$embedkit" classify train "$train" -o "$work/ek.safetensors" --dim 100 --epochs 25 --lr 0.5 \
  --word-ngrams 2 --threads "$threads" > /dev/null 2>&1

echo "quantize options: ${options[*]} (threads $threads)"
row() { printf '%-40s %8s %8s %10s %10s\n' "$@"; }
row model MB P@1 "wall s" "CPU s"
row "fastText supervised (.bin)" "$(mb "$work/ft.bin")" "$(ft_p1 "$work/ft.bin")" - -
row "embedkit classify train (.safetensors)" "$(mb "$work/ek.safetensors")" \
  "$(ek_p1 "$work/ek.safetensors")" - -

read -r wall cpu < <(timed "$fasttext" quantize -output "$work/ft" -input "$train" \
  -thread "$threads" "${options[@]}")
row "fasttext quantize of fastText's .bin" "$(mb "$work/ft.ftz")" "$(ft_p1 "$work/ft.ftz")" \
  "$wall" "$cpu"
read -r wall cpu < <(timed "$embedkit" quantize "$work/ft.bin" -o "$work/ek-of-ft.ftz" \
  -thread "$threads" "${options[@]}")
row "embedkit quantize of fastText's .bin" "$(mb "$work/ek-of-ft.ftz")" \
  "$(ft_p1 "$work/ek-of-ft.ftz")" "$wall" "$cpu"
read -r wall cpu < <(timed "$embedkit" quantize "$work/ek.safetensors" -o "$work/ek.ftz" \
  -thread "$threads" "${options[@]}")
row "embedkit quantize of embedkit's model" "$(mb "$work/ek.ftz")" "$(ek_p1 "$work/ek.ftz")" \
  "$wall" "$cpu"
# fastText's own reader on embedkit's .ftz: the same P@1 as embedkit's.
row "  the same .ftz, P@1 by fasttext test" "$(mb "$work/ek.ftz")" "$(ft_p1 "$work/ek.ftz")" - -
