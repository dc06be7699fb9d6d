#!/usr/bin/env bash
# The progress of the long commands (train, classify train, recommend train) on stderr: in a log
# (stderr not a terminal) plain lines "<command>: NN.N% ... loss X ..." ending with a 100.0% line
# whose loss is the one the summary prints; on a terminal (script(1) gives one) a bar redrawn in
# place with \r.
#   cli_progress.sh EMBEDKIT WORKDIR
set -u
bin=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }

# The loss on the last progress line of `file` that starts with `prefix`.
last_progress_loss() {  # prefix file
  awk -v p="$1: " 'index($0, p) == 1 { line = $0 } END {
    if (line !~ /100\.0%/) exit 1
    n = split(line, f, /  +/); for (i = 1; i <= n; i++) if (f[i] ~ /^loss /) { sub(/^loss /, "", f[i]); print f[i] } }' "$2"
}
# |a - b| <= 1e-4: the summary prints more digits than the progress line's four.
same_loss() {  # what a b
  awk -v a="$2" -v b="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 1e-4) }' ||
    fail "$1: last progress loss '$2' is not the summary's '$3'"
}

# word2vec
awk 'BEGIN { srand(3); for (i = 0; i < 3000; i++) { s = "";
  for (j = 0; j < 12; j++) s = s " w" int(rand() * rand() * 200); print s } }' > "$dir/corpus.txt"
"$bin" train "$dir/corpus.txt" -o "$dir/v.vec" --dim 8 --epochs 2 --min-count 1 --threads 2 \
  > "$dir/train.out" 2> "$dir/train.err" || fail "train: $(cat "$dir/train.err")"
p=$(last_progress_loss train "$dir/train.err") || fail "train: no 100% line: $(cat "$dir/train.err")"
s=$(sed -n 's/.*final loss \([0-9.e+-]*\).*/\1/p' "$dir/train.out")
same_loss train "$p" "$s"
grep -q $'\r' "$dir/train.err" && fail "train: a redrawn bar in a log"

# classify train
awk 'BEGIN { srand(5); for (i = 0; i < 600; i++) { c = (rand() < 0.5) ? "a" : "b";
  printf "__label__%s %s%d shared%d %s%d\n", c, c, int(rand() * 5), int(rand() * 9), c, int(rand() * 5) } }' \
  > "$dir/labelled.txt"
"$bin" classify train "$dir/labelled.txt" -o "$dir/m.safetensors" --dim 8 --epochs 5 --threads 2 \
  > "$dir/classify.out" 2> "$dir/classify.err" || fail "classify train: $(cat "$dir/classify.err")"
p=$(last_progress_loss "classify train" "$dir/classify.err") ||
  fail "classify train: no 100% line: $(cat "$dir/classify.err")"
s=$(sed -n 's/.*final loss \([0-9.e+-]*\),.*/\1/p' "$dir/classify.out")
same_loss "classify train" "$p" "$s"
grep -q 'tokens/s' "$dir/classify.err" || fail "classify train: no rate"

# recommend train (without -v: the progress; with -v: a line per epoch instead)
awk 'BEGIN { print "userId,movieId,rating"; for (u = 1; u <= 30; u++) for (i = 1; i <= 20; i++)
  if ((u + i) % 3) print u "," i "," ((u % 2) == (i % 2) ? 5 : 1) }' > "$dir/ratings.csv"
"$bin" recommend train "$dir/ratings.csv" --dim 4 --epochs 6 > "$dir/rec.out" 2> "$dir/rec.err" ||
  fail "recommend train: $(cat "$dir/rec.err")"
p=$(last_progress_loss "recommend train" "$dir/rec.err") ||
  fail "recommend train: no 100% line: $(cat "$dir/rec.err")"
s=$(sed -n 's/.*final train loss \([0-9.e+-]*\).*/\1/p' "$dir/rec.out")
same_loss "recommend train" "$p" "$s"
"$bin" recommend train "$dir/ratings.csv" --dim 4 --epochs 6 -v > /dev/null 2> "$dir/rec_v.err" ||
  fail "recommend train -v"
[ "$(grep -c '^epoch [0-9]' "$dir/rec_v.err")" -eq 6 ] || fail "recommend train -v: $(cat "$dir/rec_v.err")"
grep -q '^recommend train: ' "$dir/rec_v.err" && fail "recommend train -v: progress lines beside the epochs"

# On a terminal: the bar, redrawn with \r, ends with a newline.
if command -v script > /dev/null; then
  script -qec "'$bin' classify train '$dir/labelled.txt' -o '$dir/m2.safetensors' --dim 8 --epochs 5 --threads 1 > /dev/null" \
    "$dir/tty.log" > /dev/null 2>&1 || fail "classify train on a terminal"
  grep -q $'\r\\[==*' "$dir/tty.log" || fail "classify train on a terminal: no bar: $(cat -v "$dir/tty.log")"
  grep -q '100\.0%' "$dir/tty.log" || fail "classify train on a terminal: no 100% bar"
fi
echo "all progress checks passed"
