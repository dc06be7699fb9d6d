#!/bin/sh
# Smoke tests of `embedkit recommend` on small files this script writes: training, evaluation,
# top-N, similar items with titles, and the error paths (exit status 1 with the file and line
# named, 2 for usage errors, no model file left behind by a failed run).
#   cli_smoke.sh EMBEDKIT WORKDIR
set -u
BIN=$1
DIR=$2
rm -rf "$DIR"
mkdir -p "$DIR"
fail() { echo "FAIL: $*" >&2; exit 1; }

# 40 users x 30 items, two taste groups: group-mates agree, the other group's items get 1-2.
awk 'BEGIN { print "userId,movieId,rating,timestamp";
  for (u = 1; u <= 40; u++) for (i = 1; i <= 30; i++) {
    if ((u * 7 + i * 13) % 3 == 0) continue;
    r = ((u % 2) == (i % 2)) ? 4 + (i % 2) * 0.5 : 1 + (u % 3) * 0.5;
    print u "," i "," r "," (1000 + u * 100 + i) } }' > "$DIR/ratings.csv"
awk 'BEGIN { print "movieId,title,genres";
  for (i = 1; i <= 30; i++) printf "%d,\"Movie %d, The (19%02d)\",Drama\n", i, i, i }' > "$DIR/movies.csv"

"$BIN" recommend train "$DIR/ratings.csv" -o "$DIR/model.st" --dim 8 --epochs 30 \
  --write-split "$DIR/split" --json > "$DIR/train.json" || fail "train"
grep -q '"rmse"' "$DIR/train.json" || fail "train --json has no rmse"
test -s "$DIR/split/train.csv" && test -s "$DIR/split/test.csv" || fail "--write-split"
"$BIN" recommend eval "$DIR/model.st" "$DIR/split/test.csv" --json > "$DIR/eval.json" || fail "eval"
# The model's test RMSE is far below the global-mean baseline on this planted data.
awk -F': ' '/"rmse"/ { gsub(",", "", $2); r = $2 } /"baseline_rmse"/ { gsub(",", "", $2); b = $2 }
  END { if (!(r < 0.5 * b)) { print "rmse " r " baseline " b; exit 1 } }' "$DIR/eval.json" ||
  fail "eval RMSE not below half the baseline"
"$BIN" recommend topn "$DIR/model.st" 2 -k 3 --movies "$DIR/movies.csv" --json > "$DIR/topn.json" ||
  fail "topn"
grep -q '"title": "Movie [0-9]*, The' "$DIR/topn.json" || fail "topn titles"
grep -q '"cold": false' "$DIR/topn.json" || fail "topn cold"
"$BIN" recommend topn "$DIR/model.st" nobody -k 2 > "$DIR/cold.txt" 2> "$DIR/cold.err" ||
  fail "topn for an unknown user"
grep -q "no ratings in the model" "$DIR/cold.err" || fail "cold user note"
"$BIN" recommend similar "$DIR/model.st" 1 -k 4 --movies "$DIR/movies.csv" > "$DIR/similar.txt" ||
  fail "similar"
test "$(wc -l < "$DIR/similar.txt")" -eq 4 || fail "similar line count"
"$BIN" recommend train "$DIR/ratings.csv" --split user-time --objective bpr --dim 4 --epochs 2 \
  --json > /dev/null || fail "bpr with a per-user time split"

expect_status() {  # expect_status STATUS PATTERN command...
  want=$1; pattern=$2; shift 2
  "$@" > "$DIR/out.txt" 2> "$DIR/err.txt"
  got=$?
  test "$got" -eq "$want" || fail "$* exited $got, expected $want"
  grep -q -- "$pattern" "$DIR/err.txt" || fail "$*: stderr lacks '$pattern': $(cat "$DIR/err.txt")"
}
printf 'userId,movieId,rating\n1,2,4\n1,3,four\n' > "$DIR/bad.csv"
expect_status 1 "bad.csv:3: rating 'four' is not a finite number" \
  "$BIN" recommend train "$DIR/bad.csv" -o "$DIR/bad-model.st"
test ! -e "$DIR/bad-model.st" || fail "a failed train left a model file"
printf 'a b 1\nc d\n' > "$DIR/short.txt"
expect_status 1 "short.txt:2: expected 3 fields" "$BIN" recommend train "$DIR/short.txt"
: > "$DIR/empty.csv"
expect_status 1 "no ratings" "$BIN" recommend train "$DIR/empty.csv"
expect_status 1 "is not in the model" "$BIN" recommend similar "$DIR/model.st" no-such-item
printf 'not a model' > "$DIR/junk.st"
expect_status 1 "junk.st" "$BIN" recommend topn "$DIR/junk.st" 1
expect_status 2 "" "$BIN" recommend train "$DIR/ratings.csv" --optimizer nope
expect_status 2 "" "$BIN" recommend
"$BIN" recommend train --help > /dev/null || fail "--help"
# Divergence (an absurd --lr): status 1, the error names the epoch, the rating and --lr, and the
# model already at the output path is left byte for byte as it was.
cp "$DIR/model.st" "$DIR/model.orig"
expect_status 1 "training diverged at epoch [0-9]*, rating [0-9]*: .*; lower --lr" \
  "$BIN" recommend train "$DIR/ratings.csv" -o "$DIR/model.st" --dim 8 --epochs 5 --lr 1e30
cmp -s "$DIR/model.st" "$DIR/model.orig" || fail "a diverged training replaced the model"
test -z "$(find "$DIR" -name '*embedkit-tmp*')" || fail "a diverged training left a temporary file"
# The seed is uint64 end to end: the largest one trains a model that loads.
"$BIN" recommend train "$DIR/ratings.csv" -o "$DIR/seed.st" --dim 4 --epochs 1 \
  --seed 18446744073709551615 > /dev/null || fail "train with the largest seed"
"$BIN" recommend topn "$DIR/seed.st" 2 -k 2 > /dev/null 2> "$DIR/err.txt" ||
  fail "a model trained with the largest seed does not load: $(cat "$DIR/err.txt")"
echo "all recommend CLI checks passed"
