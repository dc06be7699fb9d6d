#!/usr/bin/env bash
# Smoke test of `embedkit classify` on files made here: two keyword-separated labels.
#   cli_classify.sh EMBEDKIT WORKDIR
set -u
bin=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }

# 400 training and 100 test lines: label a lines hold alpha*, label b lines beta*.
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

"$bin" classify train "$dir/train.txt" "$dir/m.safetensors" --dim 8 --epochs 10 --lr 0.5 \
  --word-ngrams 2 --buckets 1000 --threads 2 --json > "$dir/train.json" || fail "train"
grep -q '"lines": 400' "$dir/train.json" || fail "train --json: $(cat "$dir/train.json")"
grep -q '"labels": 2' "$dir/train.json" || fail "train --json labels"

out=$("$bin" classify test "$dir/m.safetensors" "$dir/test.txt") || fail "test"
echo "$out" | grep -qx $'N\t100' || fail "test N: $out"
p=$(echo "$out" | awk -F'\t' '$1 == "P@1" { print $2 }')
awk -v p="$p" 'BEGIN { exit !(p >= 0.95) }' || fail "P@1 $p < 0.95"

json=$("$bin" classify test "$dir/m.safetensors" "$dir/test.txt" -k 2 --per-label --json) \
  || fail "test --json"
echo "$json" | grep -q '"N": 100' || fail "test --json N: $json"
echo "$json" | grep -q '"per_label"' || fail "test --json per_label"
echo "$json" | grep -q '"precision": 0.5' || fail "test -k 2 precision is 0.5 with 1 gold label"

"$bin" classify test "$dir/m.safetensors" "$dir/test.txt" --per-label | grep -q $'^label\tprecision' \
  || fail "test --per-label"

pred=$(printf 'alpha1 alpha2 shared3\nbeta0 beta3\n' | "$bin" classify predict "$dir/m.safetensors" -k 2)
[ "$(echo "$pred" | wc -l)" -eq 2 ] || fail "predict lines: $pred"
echo "$pred" | head -n 1 | grep -q '^__label__a 0\.[0-9]* __label__b ' || fail "predict line 1: $pred"
echo "$pred" | tail -n 1 | grep -q '^__label__b ' || fail "predict line 2: $pred"
printf 'alpha1 alpha2\n' | "$bin" classify predict "$dir/m.safetensors" - --threshold 0.99 --json \
  | grep -q '"label": "a"' || fail "predict --json"

# The model's word vectors are queryable, as fastText's `nn` on a supervised model: the same
# neighbours as on the model converted to fastText's .bin.
"$bin" similar "$dir/m.safetensors" alpha1 -k 3 > "$dir/nn.txt" || fail "similar on a classifier model"
[ "$(wc -l < "$dir/nn.txt")" -eq 3 ] || fail "similar on a classifier model: $(cat "$dir/nn.txt")"
"$bin" convert "$dir/m.safetensors" -o "$dir/m.bin" --to fasttext-bin > /dev/null || fail "convert"
"$bin" similar "$dir/m.bin" alpha1 -k 3 > "$dir/nn_bin.txt" || fail "similar on the converted model"
cmp -s "$dir/nn.txt" "$dir/nn_bin.txt" || fail "classifier neighbours differ from the .bin's"

# A label never seen in training is counted, not fatal.
printf '__label__zzz alpha1 beta2\n__label__a alpha3\n' > "$dir/unseen.txt"
"$bin" classify test "$dir/m.safetensors" "$dir/unseen.txt" | grep -q '^unseen labels' \
  || fail "unseen label report"

# Runtime errors: status 1, nothing written.
expect_status() {  # status description command...
  local want=$1 what=$2
  shift 2
  "$@" > "$dir/out.txt" 2> "$dir/err.txt"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: status $rc, expected $want ($(cat "$dir/err.txt"))"
}
printf '__label__a fine\nno label on this line\n' > "$dir/nolabel.txt"
expect_status 1 "no label" "$bin" classify train "$dir/nolabel.txt" "$dir/x.safetensors"
grep -q 'line 2' "$dir/err.txt" || fail "no-label error names the line: $(cat "$dir/err.txt")"
[ ! -e "$dir/x.safetensors" ] || fail "a failed train wrote a model"
: > "$dir/empty.txt"
expect_status 1 "empty file" "$bin" classify train "$dir/empty.txt" "$dir/x.safetensors"
expect_status 1 "missing file" "$bin" classify train "$dir/none.txt" "$dir/x.safetensors"
expect_status 1 "unwritable model" "$bin" classify train "$dir/train.txt" "$dir/no/dir/m.safetensors"
expect_status 1 "bad model" "$bin" classify test "$dir/train.txt" "$dir/test.txt"
grep -q 'train.txt' "$dir/err.txt" || fail "bad model error names the file"
expect_status 1 "test without label" "$bin" classify test "$dir/m.safetensors" "$dir/nolabel.txt"
# Divergence (an absurd --lr): status 1, the error names the epoch, the line and --lr, and the
# model already at the output path is left byte for byte as it was.
cp "$dir/m.safetensors" "$dir/m.orig"
expect_status 1 "diverged training" "$bin" classify train "$dir/train.txt" "$dir/m.safetensors" \
  --dim 8 --epochs 5 --lr 1e30
grep -q 'training diverged at epoch [0-9]*, line [0-9]*: .*; lower --lr$' "$dir/err.txt" \
  || fail "divergence error: $(cat "$dir/err.txt")"
cmp -s "$dir/m.safetensors" "$dir/m.orig" || fail "a diverged training replaced the model"
[ -z "$(find "$dir" -name '*embedkit-tmp*')" ] || fail "a diverged training left a temporary file"
# Subwords (fastText's -minn/-maxn spellings): recorded in --json and in the model, which gives
# a word never seen in training its n-grams; bad combinations are refused, nothing written.
"$bin" classify train "$dir/train.txt" "$dir/sub.safetensors" -minn 2 -maxn 4 --buckets 1000 \
  --dim 8 --epochs 10 --lr 0.5 --threads 1 --json > "$dir/sub.json" || fail "train -minn -maxn"
grep -q '"maxn": 4' "$dir/sub.json" || fail "train --json maxn: $(cat "$dir/sub.json")"
grep -q '"buckets": 1000' "$dir/sub.json" || fail "train --json buckets with subwords"
echo 'alphas shared1' | "$bin" classify predict "$dir/sub.safetensors" | grep -q '^__label__a ' \
  || fail "an unseen inflection of alpha is not classified by its n-grams"
expect_status 1 "maxn below minn" "$bin" classify train "$dir/train.txt" "$dir/z.safetensors" \
  --minn 4 --maxn 3
grep -q 'maxn must be >= minn' "$dir/err.txt" || fail "maxn < minn error: $(cat "$dir/err.txt")"
expect_status 1 "maxn without minn" "$bin" classify train "$dir/train.txt" "$dir/z.safetensors" \
  --maxn 3
grep -q 'minn must be >= 1 with subwords' "$dir/err.txt" || fail "minn 0 error: $(cat "$dir/err.txt")"
[ ! -e "$dir/z.safetensors" ] || fail "refused options wrote a model"
# Usage errors: status 2.
expect_status 2 "no subcommand" "$bin" classify
expect_status 2 "bad option" "$bin" classify train "$dir/train.txt" "$dir/y.safetensors" --loss nope
expect_status 0 "help" "$bin" classify train --help
echo "cli_classify: ok"
