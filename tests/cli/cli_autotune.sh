#!/usr/bin/env bash
# `embedkit classify train --autotune-validation`: the search's report (stderr and --json), the
# same model from the same seed and trial bound, fastText's spellings, and bad input refused
# with nothing written.
#   cli_autotune.sh EMBEDKIT WORKDIR
set -u
bin=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Labels a and b, told apart by their keywords.
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
make_lines 300 1 > "$dir/train.txt"
make_lines 100 2 > "$dir/valid.txt"

tune() {  # output json-file stderr-file extra options...
  local out=$1 json=$2 err=$3
  shift 3
  "$bin" classify train "$dir/train.txt" -o "$out" --autotune-validation "$dir/valid.txt" \
    --autotune-trials 5 --buckets 10000 --threads 1 --seed 7 --json "$@" > "$json" 2> "$err"
}

tune "$dir/m1.safetensors" "$dir/t1.json" "$dir/t1.err" || fail "autotune: $(cat "$dir/t1.err")"
tune "$dir/m2.safetensors" "$dir/t2.json" "$dir/t2.err" || fail "autotune again"
grep -q '^autotune: f1 [0-9.]* on the validation lines, trial [0-9]* of 5 .*; training with --epochs [0-9]* --lr [0-9.e-]* --dim [0-9]* --word-ngrams [0-9]*' \
  "$dir/t1.err" || fail "the chosen arguments on stderr: $(cat "$dir/t1.err")"
python3 - "$dir/t1.json" "$dir/t2.json" <<'EOF' || fail "autotune --json"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
t = a["autotune"]
assert t["trials"] == 5 and len(t["history"]) == 5, t
assert t["metric"] == "f1" and not t["deadline_reached"], t
assert t["score"] == max(h["score"] for h in t["history"] if h["score"] is not None), t
# --buckets was given: not searched, and every candidate kept it.
assert "buckets" not in t["searched"] and "lr" in t["searched"], t["searched"]
# The model is trained with the best options, and the summary says so.
for key in ("epochs", "lr", "dim", "word_ngrams", "minn", "maxn", "loss"):
    assert a[key] == t["best"][key], (key, a[key], t["best"])
# Same seed, same trial bound, one thread: the same search.
strip = lambda h: {k: v for k, v in h.items() if k != "seconds"}
assert [strip(h) for h in t["history"]] == [strip(h) for h in b["autotune"]["history"]]
EOF
cmp -s "$dir/m1.safetensors" "$dir/m2.safetensors" || fail "same seed and trials, other model"
"$bin" classify test "$dir/m1.safetensors" "$dir/valid.txt" > /dev/null || fail "the tuned model"

# fastText's spellings, a metric on one label, a fixed option.
"$bin" classify train "$dir/train.txt" -o "$dir/m3.safetensors" -autotune-validation \
  "$dir/valid.txt" -autotune-duration 600 -autotune-metric f1:__label__b -autotune-predictions 1 \
  --autotune-trials 3 -bucket 10000 -thread 1 -lr 0.3 --json > "$dir/t3.json" 2> "$dir/t3.err" \
  || fail "fastText spellings: $(cat "$dir/t3.err")"
python3 - "$dir/t3.json" <<'EOF' || fail "autotune with fastText's spellings: $(cat "$dir/t3.json")"
import json, sys
t = json.load(open(sys.argv[1]))["autotune"]
assert t["metric"] == "f1:b" and t["trials"] == 3, t
assert all(h["lr"] == 0.3 for h in t["history"]), t["history"]
EOF

# A model-size target (fastText's -autotune-modelsize): the model written is a .ftz that fits,
# the same from the same seed and trial bound, read by classify test (and by fastText when it is
# installed); the report says how each candidate was quantized.
tune "$dir/s1.ftz" "$dir/s1.json" "$dir/s1.err" --dim 10 --autotune-modelsize 30K ||
  fail "autotune with a model size: $(cat "$dir/s1.err")"
tune "$dir/s2.ftz" "$dir/s2.json" "$dir/s2.err" --dim 10 --autotune-modelsize 30K ||
  fail "autotune with a model size, again"
cmp -s "$dir/s1.ftz" "$dir/s2.ftz" || fail "same seed, trials and model size, other model"
size=$(stat -c %s "$dir/s1.ftz")
[ "$size" -le 30000 ] || fail "the model takes $size bytes, over 30K"
grep -q 'quantized with dsub [0-9]* to fit 30000 bytes' "$dir/s1.err" ||
  fail "model size on stderr: $(cat "$dir/s1.err")"
python3 - "$dir/s1.json" "$size" <<'EOF' || fail "autotune --json with a model size: $(cat "$dir/s1.json")"
import json, sys
t = json.load(open(sys.argv[1]))["autotune"]
assert t["model_size"] == 30000 and "dsub" in t["searched"], t
assert t["final_quantization"]["bytes"] == int(sys.argv[2]), t["final_quantization"]
for h in t["history"]:
    q = h["quantization"]
    assert q["dsub"] in (2, 4, 8, 10), q
    assert h["outcome"] in ("scored", "over the model size"), h
    if h["outcome"] == "scored":
        assert q["bytes"] <= 30000 and q["qnorm"], h
EOF
"$bin" classify test "$dir/s1.ftz" "$dir/valid.txt" > "$dir/s1.test" || fail "classify test .ftz"
grep -q '^P@1' "$dir/s1.test" || fail "classify test .ftz: $(cat "$dir/s1.test")"
if command -v fasttext > /dev/null; then
  fasttext test "$dir/s1.ftz" "$dir/valid.txt" > "$dir/s1.ft" 2>&1 || fail "fasttext test: $(cat "$dir/s1.ft")"
  awk -F'\t' '$1 == "P@1" { print $2 }' "$dir/s1.ft" "$dir/s1.test" |
    awk 'NR == 1 { a = $1 } NR == 2 { d = a - $1; exit !(d < 0.0005 && d > -0.0005) }' ||
    fail "fasttext test $(cat "$dir/s1.ft") against classify test $(cat "$dir/s1.test")"
fi
# fastText's spelling: -output PREFIX writes PREFIX.ftz with a model size.
"$bin" classify train -input "$dir/train.txt" -output "$dir/pre" -autotune-validation \
  "$dir/valid.txt" -autotune-modelsize 30K --autotune-trials 2 -dim 10 -bucket 10000 \
  -thread 1 > /dev/null 2>&1 || fail "-output PREFIX with -autotune-modelsize"
[ -s "$dir/pre.ftz" ] && [ ! -e "$dir/pre.safetensors" ] || fail "-output PREFIX: $(ls "$dir")"

# Bad input: a clear error, nothing written.
expect_status() {  # status description command...
  local want=$1 what=$2
  shift 2
  "$@" > "$dir/out.txt" 2> "$dir/err.txt"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: status $rc, expected $want ($(cat "$dir/err.txt"))"
  [ ! -e "$dir/x.safetensors" ] || fail "$what: a model was written"
}
train_x() { "$bin" classify train "$dir/train.txt" -o "$dir/x.safetensors" --threads 1 "$@"; }
expect_status 1 "missing validation" train_x --autotune-validation "$dir/none.txt"
grep -q 'none.txt' "$dir/err.txt" || fail "missing validation file named: $(cat "$dir/err.txt")"
: > "$dir/empty.txt"
expect_status 1 "empty validation" train_x --autotune-validation "$dir/empty.txt"
grep -q 'empty.txt' "$dir/err.txt" || fail "empty validation file named: $(cat "$dir/err.txt")"
printf '__label__a alpha1 shared2\n__label__zzz beta1\n' > "$dir/unknown.txt"
expect_status 1 "unknown validation label" train_x --autotune-validation "$dir/unknown.txt"
grep -q "label 'zzz' on validation line 2 never occurs in the training lines" "$dir/err.txt" \
  || fail "unknown label error: $(cat "$dir/err.txt")"
expect_status 1 "unknown metric label" train_x --autotune-validation "$dir/valid.txt" \
  --autotune-metric f1:__label__zzz
expect_status 1 "bad metric" train_x --autotune-validation "$dir/valid.txt" --autotune-metric f2
grep -q "autotune metric 'f2'" "$dir/err.txt" || fail "bad metric error: $(cat "$dir/err.txt")"
for d in 0 -5 nan; do
  expect_status 2 "duration $d" train_x --autotune-validation "$dir/valid.txt" \
    --autotune-duration "$d"
  grep -q 'autotune-duration' "$dir/err.txt" || fail "duration $d error: $(cat "$dir/err.txt")"
done
expect_status 2 "duration without validation" train_x --autotune-duration 10
expect_status 2 "model size without validation" train_x --autotune-modelsize 2M
grep -q 'requires --autotune-validation' "$dir/err.txt" || fail "model size: $(cat "$dir/err.txt")"
expect_status 2 "bad model size" train_x --autotune-validation "$dir/valid.txt" \
  --autotune-modelsize 2X
grep -q "model size '2X': not a size" "$dir/err.txt" || fail "bad size: $(cat "$dir/err.txt")"
expect_status 1 "model size below any model" train_x --autotune-validation "$dir/valid.txt" \
  -autotune-modelsize 1K
grep -q "below the smallest model these 2 labels allow" "$dir/err.txt" ||
  fail "too small a model size: $(cat "$dir/err.txt")"
# A duration too short for one trial: the first trial is dropped, nothing is written, and the
# model already at the output path stays as it was.
cp "$dir/m1.safetensors" "$dir/keep.safetensors"
"$bin" classify train "$dir/train.txt" -o "$dir/keep.safetensors" --autotune-validation \
  "$dir/valid.txt" --autotune-duration 0.000001 > /dev/null 2> "$dir/err.txt" \
  && fail "a search without a trial succeeded"
grep -q 'no candidate was scored' "$dir/err.txt" || fail "no trial error: $(cat "$dir/err.txt")"
cmp -s "$dir/keep.safetensors" "$dir/m1.safetensors" || fail "a failed search replaced the model"
[ -z "$(find "$dir" -name '*embedkit-tmp*')" ] || fail "a failed search left a temporary file"
echo "cli_autotune: ok"
