#!/usr/bin/env bash
# Subword vectors on the command line (issue 14, "Subword vectors"): `train --minn/--maxn`
# writes fastText's .bin and .vec, its options are checked, and `similar`, `analogy` and `eval`
# answer words outside the vocabulary from a model with subwords (and say so), while word
# vectors without subwords behave as before. Each check is its own CTest test:
#   cli_subwords.sh EMBEDKIT CORPUS WORKDIR CHECK
# CORPUS is a small text corpus (tests/cli/data/two_groups.txt). Prints "PASS CHECK" on success.
set -u
bin=$1
corpus=$2
dir=$3
check=$4
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL ($check): $*" >&2; exit 1; }

run() {  # stdout and stderr in $dir/out and $dir/err; sets $rc
  "$@" > "$dir/out" 2> "$dir/err"
  rc=$?
}
expect_rc() {  # status what
  [ "$rc" -eq "$1" ] || fail "$2: status $rc, expected $1; stderr: $(head -c 2000 "$dir/err")"
}
expect_err() {  # fixed string, what
  grep -Fq -- "$1" "$dir/err" || fail "$2: stderr lacks '$1': $(head -c 2000 "$dir/err")"
}
expect_out() {  # fixed string, what
  grep -Fq -- "$1" "$dir/out" || fail "$2: stdout lacks '$1': $(head -c 2000 "$dir/out")"
}

# One thread and one seed: the same model every run.
w2v=(--min-count 1 --dim 8 --epochs 2 --seed 5 --threads 1)
sub=(--minn 2 --maxn 4 --buckets 1000)

case "$check" in

train_outputs)
  # PREFIX.bin or PREFIX.vec: both files, the same bytes either way.
  run "$bin" train "$corpus" -o "$dir/a.bin" "${w2v[@]}" "${sub[@]}"
  expect_rc 0 "train -o a.bin"
  expect_out "to $dir/a.vec (vec) and the model with 1000 character n-gram buckets (minn 2, maxn 4) to $dir/a.bin" "summary"
  [ -s "$dir/a.bin" ] && [ -s "$dir/a.vec" ] || fail "a.bin and a.vec are not both written"
  head -c 8 "$dir/a.bin" | od -An -tu4 | grep -q 793712314 || fail "a.bin is not a fastText model"
  head -1 "$dir/a.vec" | grep -Eq '^[0-9]+ 8$' || fail "a.vec has no 'V 8' header"
  run "$bin" train "$corpus" -o "$dir/b.vec" "${w2v[@]}" "${sub[@]}"
  expect_rc 0 "train -o b.vec"
  cmp -s "$dir/a.bin" "$dir/b.bin" || fail "-o b.vec wrote another model than -o a.bin"
  cmp -s "$dir/a.vec" "$dir/b.vec" || fail "-o b.vec wrote other vectors than -o a.bin"
  # fastText's spellings: -output PREFIX, -minn, -maxn, -bucket.
  run "$bin" train -input "$corpus" -output "$dir/c" -minn 2 -maxn 4 -bucket 1000 \
    --min-count 1 --dim 8 --epochs 2 --seed 5 --threads 1
  expect_rc 0 "fastText's spellings"
  cmp -s "$dir/a.bin" "$dir/c.bin" || fail "-output c -minn 2 -maxn 4 -bucket 1000: another model"
  # --json names both files.
  run "$bin" train "$corpus" -o "$dir/d.bin" "${w2v[@]}" "${sub[@]}" --json
  expect_rc 0 "--json"
  expect_out "\"model_output\": \"$dir/d.bin\"" "--json model_output"
  expect_out "\"minn\": 2" "--json minn"
  # --maxn alone: fastText's minn 3; --maxn 0: no subwords, word2vec text as before.
  run "$bin" train "$corpus" -o "$dir/e.bin" "${w2v[@]}" --maxn 5 --buckets 1000
  expect_rc 0 "--maxn alone"
  expect_out "(minn 3, maxn 5)" "--maxn alone takes minn 3"
  run "$bin" train "$corpus" -o "$dir/f.txt" "${w2v[@]}" --maxn 0
  expect_rc 0 "--maxn 0"
  run "$bin" train "$corpus" -o "$dir/g.txt" "${w2v[@]}"
  cmp -s "$dir/f.txt" "$dir/g.txt" || fail "--maxn 0 is not word2vec"
  [ ! -e "$dir/f.bin" ] || fail "--maxn 0 wrote a model"
  ;;

train_refused)
  # Each refused before any work, with no file written.
  run "$bin" train "$corpus" -o "$dir/x.txt" "${w2v[@]}" "${sub[@]}"
  expect_rc 1 "-o x.txt with subwords"
  expect_err "name the output PREFIX.bin or PREFIX.vec (got '$dir/x.txt')" "-o x.txt"
  run "$bin" train "$corpus" -o - "${w2v[@]}" "${sub[@]}"
  expect_rc 1 "-o - with subwords"
  expect_err "name the output PREFIX.bin or PREFIX.vec" "-o -"
  run "$bin" train "$corpus" -o "$dir/x.bin" "${w2v[@]}" "${sub[@]}" --format npy
  expect_rc 1 "--format npy with subwords"
  expect_err "--format npy" "--format npy"
  run "$bin" train "$corpus" -o "$dir/x.bin" "${w2v[@]}" --buckets 1000
  expect_rc 1 "--buckets without --minn/--maxn"
  expect_err "--buckets sizes the character n-gram table, which only --minn/--maxn turn on" \
    "--buckets alone"
  run "$bin" train "$corpus" -o "$dir/x.bin" "${w2v[@]}" --minn 5 --maxn 3
  expect_rc 1 "--minn 5 --maxn 3"
  expect_err "maxn must be >= minn, got minn 5 and maxn 3" "--minn 5 --maxn 3"
  run "$bin" train "$corpus" -o "$dir/x.bin" "${w2v[@]}" --minn 0
  expect_rc 2 "--minn 0"
  run "$bin" train "$corpus" -o "$dir/x.bin" "${w2v[@]}" --minn 3 --buckets 0
  expect_rc 2 "--buckets 0"
  run "$bin" train "$corpus" -o "$dir/x.bin" "${w2v[@]}" --maxn -1
  expect_rc 2 "--maxn -1"
  run "$bin" train "$corpus" -o "$dir/x.bin" --min-count 1 --epochs 1 --threads 1 --minn 3 \
    --buckets 2000000000 --dim 100000
  expect_rc 1 "a table larger than memory"
  expect_err "--buckets 2000000000 needs 727.6 TiB for --dim 100000" "huge --buckets"
  grep -q bad_alloc "$dir/err" && fail "huge --buckets: bare bad_alloc"
  ls "$dir"/x.* > /dev/null 2>&1 && fail "a refused run wrote $(ls "$dir"/x.*)"
  ;;

oov_queries)
  "$bin" train "$corpus" -o "$dir/m.bin" "${w2v[@]}" "${sub[@]}" > /dev/null 2>&1 ||
    fail "train"
  # A word outside the vocabulary, from its n-grams, said on stderr and in JSON.
  run "$bin" similar "$dir/m.bin" apples -k 3
  expect_rc 0 "similar OOV"
  expect_err "similar: 'apples' is out of vocabulary: its vector is built from its character n-grams" "note"
  [ "$(wc -l < "$dir/out")" -eq 3 ] || fail "similar OOV: not 3 neighbours: $(cat "$dir/out")"
  grep -q "^apples	" "$dir/out" && fail "similar OOV answers the word itself"
  run "$bin" similar "$dir/m.bin" apples -k 3 --json
  expect_out '"out_of_vocabulary": true' "similar --json"
  # In the vocabulary: no note, no member.
  run "$bin" similar "$dir/m.bin" apple -k 3 --json
  expect_rc 0 "similar apple"
  grep -q "out of vocabulary" "$dir/err" && fail "similar apple: a note for a known word"
  grep -q "out_of_vocabulary" "$dir/out" && fail "similar apple: out_of_vocabulary in JSON"
  # Batch queries: each OOV word its block and its note.
  printf 'apples\nhammers\n' > "$dir/queries"
  run "$bin" similar "$dir/m.bin" --queries "$dir/queries" -k 2
  expect_rc 0 "similar --queries"
  expect_err "'hammers' is out of vocabulary" "batch note"
  run "$bin" analogy "$dir/m.bin" apples apple hammer -k 2 --json
  expect_rc 0 "analogy OOV"
  expect_out '"out_of_vocabulary": ["apples"]' "analogy --json"
  expect_err "analogy: 'apples' is out of vocabulary" "analogy note"
  run "$bin" analogy "$dir/m.bin" apples apple hammer --method mul
  expect_rc 1 "analogy --method mul OOV"
  expect_err "--method mul needs A, B and C in the vocabulary ('apples' is not)" "mul"
  # The .vec (no subwords): as before, an unknown word is an error.
  run "$bin" similar "$dir/m.vec" apples
  expect_rc 1 "similar OOV on .vec"
  expect_err "not in the vocabulary" "similar .vec"
  ;;

eval_oov)
  "$bin" train "$corpus" -o "$dir/m.bin" "${w2v[@]}" "${sub[@]}" > /dev/null 2>&1 ||
    fail "train"
  printf ': fruit\napple banana cherry grape\nApples banana cherry grape\napple zzzz cherry grape\n' \
    > "$dir/q.txt"
  printf 'apple\tbanana\t9\napples\tcherry\t8\nhammer\tdrill\t3\nqqqq\tdrill\t2\n' > "$dir/p.tsv"
  run "$bin" eval "$dir/m.bin" --analogies "$dir/q.txt" --similarity "$dir/p.tsv" --json
  expect_rc 0 "eval .bin"
  expect_out '"covered": 3' "eval .bin covers every question"
  expect_out '"built_from_ngrams": 2' "eval .bin: two questions built from n-grams"
  expect_out '"in_vocabulary": {' "eval .bin: accuracy without OOV"
  expect_out '"pairs": 4' "eval .bin: every pair"
  run "$bin" eval "$dir/m.bin" --analogies "$dir/q.txt" --similarity "$dir/p.tsv"
  expect_out "out of vocabulary, built from n-grams: 2 questions; without them:" "eval text"
  expect_out "out of vocabulary, built from n-grams: 2 pairs; without them:" "eval text pairs"
  # The .vec: the OOV questions skipped, as before, and no built counts.
  run "$bin" eval "$dir/m.vec" --analogies "$dir/q.txt" --similarity "$dir/p.tsv" --json
  expect_rc 0 "eval .vec"
  expect_out '"covered": 1' "eval .vec"
  grep -q built_from_ngrams "$dir/out" && fail "eval .vec reports built words"
  ;;

*)
  fail "unknown check"
  ;;
esac
echo "PASS $check"
