#!/usr/bin/env bash
# `embedkit quantize` (fastText's quantize) on a classifier trained here: the .ftz predicts what
# the float model predicts through `classify test|predict`, fastText's spellings work, and bad
# input fails with a clear message and status 1 or 2, writing nothing.
#   cli_quantize.sh EMBEDKIT WORKDIR
set -u
bin=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Two keyword-separated labels (as cli_classify.sh).
make_lines() {  # count seed
  awk -v n="$1" -v seed="$2" 'BEGIN {
    srand(seed);
    for (i = 0; i < n; i++) {
      c = (rand() < 0.5) ? "a" : "b"; k = (c == "a") ? "alpha" : "beta";
      printf "__label__%s shared%d %s%d shared%d %s%d\n", c, int(rand() * 9), k, int(rand() * 4),
             int(rand() * 9), k, int(rand() * 4);
    }
  }'
}
make_lines 400 1 > "$dir/train.txt"
make_lines 100 2 > "$dir/test.txt"
"$bin" classify train "$dir/train.txt" -o "$dir/m.safetensors" --dim 8 --epochs 10 --lr 0.5 \
  --word-ngrams 2 --buckets 1000 --threads 1 > /dev/null || fail "train"

p_of() { "$bin" classify test "$1" "$dir/test.txt" | awk -F'\t' '$1 == "P@1" { print $2 }'; }
p_float=$(p_of "$dir/m.safetensors")

# Every option: the quantized model predicts as well as the float one on this easy task.
"$bin" quantize "$dir/m.safetensors" -o "$dir/q.ftz" --dsub 2 --qnorm --qout --cutoff 200 \
  --threads 2 --json > "$dir/q.json" || fail "quantize: $(cat "$dir/q.json")"
grep -q '"kept_rows": 200' "$dir/q.json" || fail "quantize --json: $(cat "$dir/q.json")"
p_q=$(p_of "$dir/q.ftz") || fail "classify test on the .ftz"
[ "$p_q" = "$p_float" ] || fail "P@1 of the .ftz $p_q, of the float model $p_float"
"$bin" classify predict "$dir/q.ftz" "$dir/test.txt" -k 2 > "$dir/pred.txt" || fail "predict"
[ "$(wc -l < "$dir/pred.txt")" -eq 100 ] || fail "predict: $(head -3 "$dir/pred.txt")"
grep -qv '^__label__[ab] [0-9.]* __label__[ab] [0-9.]*$' "$dir/pred.txt" &&
  fail "predict lines: $(head -3 "$dir/pred.txt")"

# The same seed gives the same bytes, whatever the thread count.
"$bin" quantize "$dir/m.safetensors" -o "$dir/q1.ftz" --dsub 2 --qnorm --qout --cutoff 200 \
  --threads 1 > /dev/null || fail "quantize, 1 thread"
cmp -s "$dir/q.ftz" "$dir/q1.ftz" || fail "1 and 2 threads gave different files"

# fastText's spelling: -output PREFIX reads PREFIX.safetensors and writes PREFIX.ftz.
"$bin" quantize -output "$dir/m" -qnorm -cutoff 200 -dsub 4 > /dev/null || fail "-output PREFIX"
[ -s "$dir/m.ftz" ] || fail "-output PREFIX wrote no PREFIX.ftz"

# --retrain (fastText's -retrain): the kept rows trained again on the training file. At one
# thread the same bytes on every run; the rows kept are those of the cutoff without retraining
# (same kept_rows), the values not (the files differ); the JSON reports the training.
"$bin" quantize "$dir/m.safetensors" -o "$dir/r.ftz" --cutoff 40 --retrain --input "$dir/train.txt" \
  --epochs 3 --lr 0.2 --threads 1 --json > "$dir/r.json" || fail "retrain: $(cat "$dir/r.json")"
grep -q '"kept_rows": 40' "$dir/r.json" || fail "retrain --json: $(cat "$dir/r.json")"
grep -q '"lines": 400' "$dir/r.json" || fail "retrain --json lines: $(cat "$dir/r.json")"
grep -q '"epochs": 3' "$dir/r.json" || fail "retrain --json epochs: $(cat "$dir/r.json")"
"$bin" quantize "$dir/m.safetensors" -o "$dir/r1.ftz" --cutoff 40 --retrain --input "$dir/train.txt" \
  --epochs 3 --lr 0.2 --threads 1 > /dev/null || fail "retrain again"
cmp -s "$dir/r.ftz" "$dir/r1.ftz" || fail "retrain at 1 thread gave different files"
"$bin" quantize "$dir/m.safetensors" -o "$dir/c.ftz" --cutoff 40 --threads 1 > /dev/null ||
  fail "cutoff alone"
cmp -s "$dir/r.ftz" "$dir/c.ftz" && fail "retrain changed nothing"
p_r=$(p_of "$dir/r.ftz") || fail "classify test on the retrained .ftz"
[ "$p_r" = "$p_float" ] || fail "P@1 of the retrained .ftz $p_r, of the float model $p_float"
# Without --epochs and --lr, the model's own (10 epochs, lr 0.5) are used.
"$bin" quantize "$dir/m.safetensors" -o "$dir/r2.ftz" --cutoff 40 --retrain --input "$dir/train.txt" \
  --threads 1 --json > "$dir/r2.json" || fail "retrain, model's options"
grep -q '"epochs": 10' "$dir/r2.json" && grep -q '"lr": 0.5' "$dir/r2.json" ||
  fail "retrain's defaults: $(cat "$dir/r2.json")"
# fastText's spelling.
"$bin" quantize -output "$dir/m" -cutoff 40 -retrain -input "$dir/train.txt" -epoch 3 -lr 0.2 \
  -thread 1 > /dev/null || fail "fastText's -retrain -input -epoch -lr -thread"
cmp -s "$dir/m.ftz" "$dir/r.ftz" || fail "fastText's spelling retrained differently"

# --label-prefix (fastText's -label): TRAIN's label prefix. The same lines under another prefix
# retrain the same model to the same bytes; without it they carry no label of the model.
sed 's/^__label__/#/' "$dir/train.txt" > "$dir/train-hash.txt"
"$bin" quantize "$dir/m.safetensors" -o "$dir/h.ftz" --cutoff 40 --retrain --input \
  "$dir/train-hash.txt" --epochs 3 --lr 0.2 --threads 1 --label-prefix '#' --json > "$dir/h.json" ||
  fail "retrain --label-prefix: $(cat "$dir/h.json")"
grep -q '"label_prefix": "#"' "$dir/h.json" ||
  fail "retrain --json label_prefix: $(cat "$dir/h.json")"
cmp -s "$dir/h.ftz" "$dir/r.ftz" || fail "--label-prefix '#' retrained differently"
"$bin" quantize "$dir/m.safetensors" -o "$dir/h1.ftz" -cutoff 40 -retrain -input \
  "$dir/train-hash.txt" -epoch 3 -lr 0.2 -thread 1 -label '#' > /dev/null || fail "-label '#'"
cmp -s "$dir/h1.ftz" "$dir/r.ftz" || fail "fastText's -label retrained differently"
# A classifier trained with another prefix retrains on its own lines by default (its prefix is
# stored); its .ftz names its labels with that prefix.
"$bin" classify train "$dir/train-hash.txt" -o "$dir/mh.safetensors" --dim 8 --epochs 10 \
  --lr 0.5 --word-ngrams 2 --buckets 1000 --threads 1 --label-prefix '#' > /dev/null ||
  fail "train with --label-prefix '#'"
"$bin" quantize "$dir/mh.safetensors" -o "$dir/mh.ftz" --cutoff 40 --retrain --input \
  "$dir/train-hash.txt" --threads 1 --json > "$dir/mh.json" || fail "retrain a '#' model"
grep -q '"label_prefix": "#"' "$dir/mh.json" || fail "'#' model's prefix: $(cat "$dir/mh.json")"
"$bin" classify predict "$dir/mh.ftz" "$dir/test.txt" --label-prefix '#' > "$dir/mh-pred.txt" ||
  fail "predict with the '#' .ftz"
grep -qv '^#[ab] [0-9.]*$' "$dir/mh-pred.txt" &&
  fail "'#' .ftz predicts: $(head -3 "$dir/mh-pred.txt")"

# Bad input: status, message, and nothing written.
expect_error() {  # status pattern args...
  local status=$1 pattern=$2
  shift 2
  rm -f "$dir/out.ftz"
  "$bin" quantize "$@" 2> "$dir/err.txt" > /dev/null
  local rc=$?
  [ $rc -eq "$status" ] || fail "quantize $*: status $rc, expected $status ($(cat "$dir/err.txt"))"
  grep -q -- "$pattern" "$dir/err.txt" || fail "quantize $*: message $(cat "$dir/err.txt")"
  [ ! -e "$dir/out.ftz" ] || fail "quantize $*: wrote out.ftz"
  [ -z "$(ls -A "$dir" | grep '\.tmp')" ] || fail "quantize $*: left a temporary file"
}
expect_error 1 "dsub must be in \[1, dim\] = \[1, 8\], got 9" "$dir/m.safetensors" -o "$dir/out.ftz" --dsub 9
expect_error 2 "cutoff" "$dir/m.safetensors" -o "$dir/out.ftz" --cutoff 0
expect_error 1 "cutoff must be in \[1, " "$dir/m.safetensors" -o "$dir/out.ftz" --cutoff 100000000
expect_error 1 "already quantized" "$dir/q.ftz" -o "$dir/out.ftz"
head -c 300 "$dir/q.ftz" > "$dir/cut.ftz"
expect_error 1 "truncated" "$dir/cut.ftz" -o "$dir/out.ftz"
expect_error 1 "neither a classifier" "$dir/train.txt" -o "$dir/out.ftz"
expect_error 1 "MODEL" "$dir/m.safetensors" -o "$dir/m.safetensors"
expect_error 2 "needs --cutoff" "$dir/m.safetensors" -o "$dir/out.ftz" --retrain --input "$dir/train.txt"
expect_error 2 "needs --input" "$dir/m.safetensors" -o "$dir/out.ftz" --retrain --cutoff 40
expect_error 2 "give --retrain too" "$dir/m.safetensors" -o "$dir/out.ftz" --cutoff 40 --input "$dir/train.txt"
expect_error 2 "does not exist" "$dir/m.safetensors" -o "$dir/out.ftz" --cutoff 40 --retrain --input "$dir/none.txt"
: > "$dir/empty.txt"
expect_error 1 "empty.txt" "$dir/m.safetensors" -o "$dir/out.ftz" --cutoff 40 --retrain --input "$dir/empty.txt"
sed 's/__label__[ab]/__label__z/' "$dir/train.txt" > "$dir/other.txt"
expect_error 1 "none of the 400 training lines" "$dir/m.safetensors" -o "$dir/out.ftz" --cutoff 40 \
  --retrain --input "$dir/other.txt"
expect_error 1 "train-hash.txt: line 1: no label" "$dir/m.safetensors" -o "$dir/out.ftz" \
  --cutoff 40 --retrain --input "$dir/train-hash.txt"
expect_error 1 "line 1: no label (no token starts with '__label__')" "$dir/m.safetensors" \
  -o "$dir/out.ftz" --cutoff 40 --retrain --input "$dir/train-hash.txt" --label-prefix __label__
expect_error 2 "give --retrain too" "$dir/m.safetensors" -o "$dir/out.ftz" --cutoff 40 \
  --label-prefix '#'
expect_error 2 "must not be empty" "$dir/m.safetensors" -o "$dir/out.ftz" --cutoff 40 --retrain \
  --input "$dir/train.txt" --label-prefix ''
expect_error 1 "diverged.*lower --lr" "$dir/m.safetensors" -o "$dir/out.ftz" --cutoff 40 --retrain \
  --input "$dir/train.txt" --lr 1e30
# An existing output is left as it was when quantizing fails.
echo keep > "$dir/keep.ftz"
"$bin" quantize "$dir/q.ftz" -o "$dir/keep.ftz" 2> /dev/null && fail "quantized a .ftz"
[ "$(cat "$dir/keep.ftz")" = keep ] || fail "a failed quantize changed an existing output"
# A truncated .ftz given to classify test is an error naming the file, not a crash.
"$bin" classify test "$dir/cut.ftz" "$dir/test.txt" 2> "$dir/err.txt" && fail "test on cut.ftz"
grep -q "cut.ftz: truncated" "$dir/err.txt" || fail "test on cut.ftz: $(cat "$dir/err.txt")"
echo "cli_quantize: ok"
