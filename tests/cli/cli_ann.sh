#!/usr/bin/env bash
# `similar` and `analogy` with --ann: the HNSW index built beside the vectors on first use and
# reused, answers that agree with the exact search (the oracle) on generated clustered vectors,
# and bad input (a truncated index, another file's index, -k larger than the vocabulary, vectors
# from standard input) refused with a clear error and nothing written.
#   cli_ann.sh EMBEDKIT DATA_DIR WORKDIR
set -u
bin=$1
data=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }

# 2000 words of dimension 16 around 20 centres (fixed seed), as word2vec text.
python3 - "$dir/v.vec" "$dir/w.vec" << 'PY' || fail "generate vectors"
import random, sys
for path, seed in ((sys.argv[1], 5), (sys.argv[2], 6)):
    rng = random.Random(seed)
    centres = [[rng.gauss(0, 1) for _ in range(16)] for _ in range(20)]
    with open(path, "w") as f:
        f.write("2000 16\n")
        for i in range(2000):
            c = centres[rng.randrange(20)]
            f.write("w%d %s\n" % (i, " ".join("%.5f" % (x + rng.gauss(0, 0.6)) for x in c)))
PY
"$bin" convert "$dir/v.vec" "$dir/v.npy" > /dev/null || fail "convert v"
"$bin" convert "$dir/w.vec" "$dir/w.npy" > /dev/null || fail "convert w"
words=$(seq 0 20 1999 | sed 's/^/w/')

# First use builds and saves the index, and says so on stderr.
echo "$words" | "$bin" similar "$dir/v.npy" - -k 10 > "$dir/exact.out" || fail "exact similar"
echo "$words" | "$bin" similar "$dir/v.npy" - -k 10 --ann > "$dir/ann.out" 2> "$dir/ann.err" \
  || fail "similar --ann: $(cat "$dir/ann.err")"
grep -q "similar: built the HNSW index $dir/v.npy.hnsw (2000 words)" "$dir/ann.err" \
  || fail "no note of the build: $(cat "$dir/ann.err")"
[ -f "$dir/v.npy.hnsw" ] || fail "no index beside the vectors"
cp "$dir/v.npy.hnsw" "$dir/index.saved"
# recall@10 against the exact search: the same 'word<TAB>score' lines (a found word's score is
# the exact one), over the 100 queries' 1000 answers.
same=$(grep -cxFf "$dir/exact.out" "$dir/ann.out")
[ "$same" -ge 950 ] || fail "recall@10 of --ann: $same / 1000 lines of the exact answers"
[ "$(grep -c $'\t' "$dir/ann.out")" = 1000 ] || fail "not 10 answers a query"

# Second use loads the index: no build, the file unchanged, the same answers.
echo "$words" | "$bin" similar "$dir/v.npy" - -k 10 --ann > "$dir/ann2.out" 2> "$dir/ann2.err" \
  || fail "second similar --ann"
[ ! -s "$dir/ann2.err" ] || fail "second use wrote to stderr: $(cat "$dir/ann2.err")"
cmp -s "$dir/v.npy.hnsw" "$dir/index.saved" || fail "the index was rewritten"
cmp -s "$dir/ann.out" "$dir/ann2.out" || fail "a loaded index answers otherwise than the built one"

# analogy --ann (3CosAdd through the index) and --json; --ann-ef is the search breadth.
"$bin" analogy "$dir/v.npy" w1 w2 w3 -k 5 --ann --ann-ef 200 --json > "$dir/an.json" \
  || fail "analogy --ann"
want=$("$bin" analogy "$dir/v.npy" w1 w2 w3 -k 5 --json) || fail "analogy exact"
[ "$(cat "$dir/an.json")" = "$want" ] || fail "analogy --ann: $(cat "$dir/an.json") (exact: $want)"

# Bad input: a clear error (exit 1), nothing written, the index file unchanged.
check_refused() {  # EXPECTED_TEXT COMMAND...
  local expected=$1
  shift
  local before
  # Not counted: the pair's verification record (<vocab>.verified, docs/memory-mapping.md) and its
  # stored word index (<vocab>.wordindex), which the open writes once the pair is 2 s old, before
  # the command's own checks: caches of the open's work, written or not depending on how fast the
  # lines above ran (a slow ASan run writes them).
  before=$(ls "$dir" | grep -v -e '^bad\.' -e '\.verified$' -e '\.wordindex$')
  "$@" > "$dir/bad.out" 2> "$dir/bad.err"
  local rc=$?
  [ "$rc" = 1 ] || fail "$*: exit $rc, expected 1: $(cat "$dir/bad.err")"
  grep -qF -- "$expected" "$dir/bad.err" || fail "$*: '$(cat "$dir/bad.err")' lacks '$expected'"
  [ ! -s "$dir/bad.out" ] || fail "$*: wrote answers: $(cat "$dir/bad.out")"
  [ "$(ls "$dir" | grep -v -e '^bad\.' -e '\.verified$' -e '\.wordindex$')" = "$before" ] ||
    fail "$*: added or removed files"
}
cp "$dir/v.npy.hnsw" "$dir/w.npy.hnsw"
check_refused "this HNSW index belongs to other vectors: it was built from 2000 x 16" \
  "$bin" similar "$dir/w.npy" w1 --ann
check_refused "delete it to rebuild it from these vectors" "$bin" analogy "$dir/w.npy" w1 w2 w3 --ann
head -c 5000 "$dir/index.saved" > "$dir/w.npy.hnsw"
check_refused "truncated or corrupt HNSW index" "$bin" similar "$dir/w.npy" w1 --ann
head -c 40 "$dir/index.saved" > "$dir/w.npy.hnsw"
check_refused "truncated HNSW index: 40 bytes" "$bin" similar "$dir/w.npy" w1 --ann
rm "$dir/w.npy.hnsw"
check_refused "-k 2001 is larger than the vocabulary (2000 words)" \
  "$bin" similar "$dir/w.npy" w1 -k 2001 --ann
[ ! -e "$dir/w.npy.hnsw" ] || fail "-k too large built an index"
cp "$data/royal.txt" "$dir/royal.txt"
check_refused "--ann needs the vectors in a file" sh -c "'$bin' similar - king --ann < '$dir/royal.txt'"
"$bin" similar "$dir/v.npy" w1 --ann --ann-ef 0 > /dev/null 2>&1
[ $? = 2 ] || fail "--ann-ef 0 is not a usage error"
cmp -s "$dir/v.npy.hnsw" "$dir/index.saved" || fail "the refusals changed v.npy.hnsw"
echo "PASS ann"
