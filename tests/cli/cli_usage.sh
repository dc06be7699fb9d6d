#!/usr/bin/env bash
# The command line as a fastText or gensim user meets it (issue 14, "The command line"): one
# name per concept and the old spellings kept hidden, help, suggestions for what is mistyped,
# fastText's spellings, all cores by default, batch queries through a pipe, and the
# recommender's implicit feedback. Each check is its own CTest test:
#   cli_usage.sh EMBEDKIT CORPUS VECTORS WORKDIR CHECK
# CORPUS is a small text corpus (tests/cli/data/two_groups.txt), VECTORS a small word2vec text
# file (tests/cli/data/royal.txt). Prints "PASS CHECK" on success.
set -u
bin=$1
corpus=$2
vectors=$3
dir=$4
check=$5
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL ($check): $*" >&2; exit 1; }

# Runs a command with stdout and stderr captured in $dir/out and $dir/err; sets $rc.
run() {
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
same() {  # file file what
  cmp -s "$1" "$2" || fail "$3: $1 and $2 differ"
}

# One thread and one seed: the same vectors and models every run, so spellings compare by cmp.
w2v=(--min-count 1 --dim 8 --epochs 2 --seed 5 --threads 1)
cls=(--dim 8 --epochs 5 --lr 0.5 --seed 5 --threads 1)
labelled() {  # lines: two labels told apart by their words
  awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) {
    if (i % 2) printf "__label__a alpha%d shared%d alpha%d\n", i % 4, i % 7, (i + 1) % 4;
    else printf "__label__b beta%d shared%d beta%d\n", i % 4, i % 7, (i + 1) % 4 } }'
}
ratings() {  # users and items of two tastes, rated 1 to 5
  echo "userId,movieId,rating,timestamp"
  awk 'BEGIN { for (u = 1; u <= 20; u++) for (i = 1; i <= 15; i++)
    if ((u * 7 + i * 3) % 4 != 0) printf "u%d,i%d,%d,%d\n", u, i, 1 + (u + i) % 5, u * 100 + i }'
}
pairs() {  # implicit feedback: user-item pairs, no rating column
  echo "userId,itemId"
  awk 'BEGIN { for (u = 1; u <= 30; u++) for (i = 1; i <= 20; i++)
    if (u % 2 == i % 2 && (u * 7 + i * 13) % 3 != 0) printf "u%d,i%d\n", u, i }'
}
help_of() {  # the help of a command, in $dir/help
  "$bin" "$@" --help > "$dir/help" || fail "$* --help"
}

case "$check" in

canonical_names)
  # One name per concept in every subcommand's help: -k, -o/--output, --lr, --threads; the old
  # spellings are not shown (they are hidden aliases, checked by old_spellings).
  for cmd in "train" "similar" "analogy" "eval" "convert" "plot" "classify train" \
             "classify test" "classify predict" "recommend train" "recommend eval" \
             "recommend topn" "recommend similar" "tour"; do
    # shellcheck disable=SC2086
    help_of $cmd
    for old in --topn --top --k --alpha --out --movies "(old spelling)"; do
      if grep -Eq -- "(^|[ ,])$old([ =,]|$)" "$dir/help"; then fail "$cmd --help shows $old"; fi
    done
    if grep -Eq -- 'Usage: .*(OUT|MODEL)$' "$dir/help" && [ "$cmd" != "classify test" ] &&
       [ "$cmd" != "classify predict" ]; then
      fail "$cmd --help shows a positional output: $(grep Usage "$dir/help")"
    fi
  done
  for cmd in "train" "convert" "plot" "classify train" "recommend train"; do
    # shellcheck disable=SC2086
    help_of $cmd
    grep -q -- '-o,--output' "$dir/help" || fail "$cmd --help has no -o,--output"
  done
  for cmd in "similar" "analogy" "plot" "classify test" "classify predict" "recommend train" \
             "recommend eval" "recommend topn" "recommend similar"; do
    # shellcheck disable=SC2086
    help_of $cmd
    grep -Eq -- '^  -k ' "$dir/help" || fail "$cmd --help has no -k"
  done
  for cmd in "train" "classify train" "recommend train"; do
    # shellcheck disable=SC2086
    help_of $cmd
    grep -Eq -- '^  --lr ' "$dir/help" || fail "$cmd --help has no --lr"
    grep -Eq -- '^  --threads ' "$dir/help" || fail "$cmd --help has no --threads"
  done
  ;;

old_spellings)
  # Every old spelling still works, for one release, and means what the new one means.
  run "$bin" train "$corpus" -o "$dir/new.txt" --lr 0.05 "${w2v[@]}"
  expect_rc 0 "train -o --lr"
  run "$bin" train "$corpus" "$dir/old.txt" --alpha 0.05 "${w2v[@]}"
  expect_rc 0 "train OUT --alpha"
  same "$dir/new.txt" "$dir/old.txt" "train OUT --alpha against -o --lr"
  run "$bin" convert "$dir/new.txt" -o "$dir/new.bin"
  expect_rc 0 "convert -o"
  run "$bin" convert "$dir/new.txt" "$dir/old.bin"
  expect_rc 0 "convert IN OUT"
  same "$dir/new.bin" "$dir/old.bin" "convert OUT against -o"
  run "$bin" plot "$vectors" -o "$dir/new.svg" -o "$dir/new2.svg" -k 4
  expect_rc 0 "plot -o -o -k"
  run "$bin" plot "$vectors" "$dir/old.svg" "$dir/old2.svg" --top 4
  expect_rc 0 "plot OUT OUT --top"
  same "$dir/new.svg" "$dir/old.svg" "plot OUT --top against -o -k"
  same "$dir/new2.svg" "$dir/old2.svg" "plot's second OUT against -o"
  "$bin" similar "$vectors" king -k 2 > "$dir/new" || fail "similar -k"
  for old in --topn --top --k; do
    "$bin" similar "$vectors" king $old 2 > "$dir/old" || fail "similar $old"
    same "$dir/new" "$dir/old" "similar $old against -k"
    "$bin" analogy "$vectors" king man woman $old 2 > "$dir/old" || fail "analogy $old"
    "$bin" analogy "$vectors" king man woman -k 2 > "$dir/new2" || fail "analogy -k"
    same "$dir/new2" "$dir/old" "analogy $old against -k"
  done
  labelled 200 > "$dir/t.txt"
  run "$bin" classify train "$dir/t.txt" -o "$dir/new.safetensors" "${cls[@]}"
  expect_rc 0 "classify train -o"
  run "$bin" classify train "$dir/t.txt" "$dir/old.safetensors" "${cls[@]}"
  expect_rc 0 "classify train TRAIN MODEL"
  same "$dir/new.safetensors" "$dir/old.safetensors" "classify train MODEL against -o"
  "$bin" classify test "$dir/new.safetensors" "$dir/t.txt" -k 2 > "$dir/new" || fail "test -k"
  printf 'alpha1 shared2\nbeta3\n' > "$dir/lines.txt"
  "$bin" classify predict "$dir/new.safetensors" "$dir/lines.txt" -k 2 > "$dir/new2" ||
    fail "predict -k"
  for old in --topn --top --k; do
    "$bin" classify test "$dir/new.safetensors" "$dir/t.txt" $old 2 > "$dir/old" ||
      fail "classify test $old"
    same "$dir/new" "$dir/old" "classify test $old against -k"
    "$bin" classify predict "$dir/new.safetensors" "$dir/lines.txt" $old 2 > "$dir/old" ||
      fail "classify predict $old"
    same "$dir/new2" "$dir/old" "classify predict $old against -k"
  done
  ratings > "$dir/r.csv"
  ropts=(--dim 4 --epochs 3)
  run "$bin" recommend train "$dir/r.csv" -o "$dir/new.rec" "${ropts[@]}"
  expect_rc 0 "recommend train -o"
  run "$bin" recommend train "$dir/r.csv" --out "$dir/old.rec" "${ropts[@]}"
  expect_rc 0 "recommend train --out"
  same "$dir/new.rec" "$dir/old.rec" "recommend train --out against -o"
  run "$bin" recommend train "$dir/r.csv" --output "$dir/long.rec" "${ropts[@]}"
  same "$dir/new.rec" "$dir/long.rec" "recommend train --output against -o"
  printf 'movieId,title\ni1,One\ni2,Two\ni3,Three\n' > "$dir/titles.csv"
  "$bin" recommend topn "$dir/new.rec" u1 -k 3 --titles "$dir/titles.csv" > "$dir/new" ||
    fail "topn --titles"
  "$bin" recommend topn "$dir/new.rec" u1 --k 3 --movies "$dir/titles.csv" > "$dir/old" ||
    fail "topn --k --movies"
  same "$dir/new" "$dir/old" "topn --k --movies against -k --titles"
  # Both spellings at once: a usage error, nothing written.
  run "$bin" train "$corpus" "$dir/a.txt" -o "$dir/b.txt" "${w2v[@]}"
  expect_rc 2 "train OUT and -o"
  expect_err "the output is given twice" "train OUT and -o"
  [ ! -e "$dir/a.txt" ] && [ ! -e "$dir/b.txt" ] || fail "train OUT and -o wrote a file"
  run "$bin" train "$corpus" "${w2v[@]}"
  expect_rc 2 "train without an output"
  expect_err "--output is required" "train without an output"
  # An old spelling keeps its checks.
  run "$bin" similar "$vectors" king --topn -1
  expect_rc 2 "similar --topn -1"
  run "$bin" plot "$vectors" -o "$dir/p.svg" --top 3 --words king
  expect_rc 2 "plot --top with --words"
  ;;

help)
  # `embedkit` alone: the usage on stderr, status 2 (nothing was asked); `embedkit help`: the
  # usage on stdout, status 0; `embedkit help COMMAND...`: that command's.
  run "$bin"
  expect_rc 2 "embedkit alone"
  expect_err "Usage: embedkit [OPTIONS] SUBCOMMAND" "embedkit alone"
  expect_err "classify" "embedkit alone"
  run "$bin" help
  expect_rc 0 "embedkit help"
  expect_out "Usage: embedkit [OPTIONS] SUBCOMMAND" "embedkit help"
  expect_out "embedkit help COMMAND" "embedkit help"
  run "$bin" help train
  expect_rc 0 "embedkit help train"
  expect_out "Usage: embedkit train [OPTIONS] CORPUS" "embedkit help train"
  expect_out "--epochs" "embedkit help train"
  run "$bin" help classify train
  expect_rc 0 "embedkit help classify train"
  expect_out "Usage: embedkit classify train [OPTIONS] TRAIN" "embedkit help classify train"
  run "$bin" help skipgram
  expect_rc 0 "embedkit help skipgram"
  expect_out "Usage: embedkit train [OPTIONS] CORPUS" "embedkit help skipgram"
  run "$bin" help recommend
  expect_rc 0 "embedkit help recommend"
  expect_out "topn" "embedkit help recommend"
  run "$bin" classify
  expect_rc 2 "embedkit classify"
  expect_err "Usage: embedkit classify [OPTIONS] SUBCOMMAND" "embedkit classify"
  run "$bin" help nope
  expect_rc 2 "embedkit help nope"
  expect_err "unknown command 'nope'" "embedkit help nope"
  ;;

suggestions)
  # An unknown command or option names itself and the nearest known one; status 2.
  run "$bin" trian "$corpus"
  expect_rc 2 "trian"
  expect_err "embedkit: unknown command 'trian'; did you mean 'train'?" "trian"
  run "$bin" simlar "$vectors" king
  expect_rc 2 "simlar"
  expect_err "did you mean 'similar'?" "simlar"
  run "$bin" classify tarin x
  expect_rc 2 "classify tarin"
  expect_err "embedkit classify: unknown command 'tarin'; did you mean 'train'?" "classify tarin"
  run "$bin" recommend topm m u
  expect_rc 2 "recommend topm"
  expect_err "did you mean 'topn'?" "recommend topm"
  run "$bin" train "$corpus" -o "$dir/v.txt" --epoch 3
  expect_rc 2 "--epoch"
  expect_err "embedkit train: unknown option '--epoch'; did you mean '--epochs'?" "--epoch"
  run "$bin" classify train "$corpus" -o "$dir/m" --word-ngram 2
  expect_rc 2 "--word-ngram"
  expect_err "unknown option '--word-ngram'; did you mean '--word-ngrams'?" "--word-ngram"
  run "$bin" classify train "$corpus" -o "$dir/m" -wordNgram 2
  expect_rc 2 "-wordNgram"
  expect_err "unknown option '-wordNgram'; did you mean '-wordNgrams'?" "-wordNgram"
  run "$bin" recommend train "$corpus" --objectve bpr
  expect_rc 2 "--objectve"
  expect_err "did you mean '--objective'?" "--objectve"
  run "$bin" --verison
  expect_rc 2 "--verison"
  expect_err "embedkit: unknown option '--verison'; did you mean '--version'?" "--verison"
  # fastText's commands that embedkit has under another name.
  run "$bin" predict m.bin test.txt 1
  expect_rc 2 "predict"
  expect_err "fastText's 'predict' is 'embedkit classify predict'" "predict"
  run "$bin" nn m.bin
  expect_err "fastText's 'nn' is 'embedkit similar'" "nn"
  # Nothing near: the option is still named, with no guess.
  run "$bin" similar "$vectors" king --zzzzzzzz
  expect_rc 2 "--zzzzzzzz"
  expect_err "unknown option '--zzzzzzzz'" "--zzzzzzzz"
  if grep -q "did you mean" "$dir/err"; then fail "--zzzzzzzz got a guess: $(cat "$dir/err")"; fi
  # A one-letter option is no typo of another one-letter option.
  run "$bin" similar "$vectors" king -n 2
  expect_rc 2 "-n"
  expect_err "unknown option '-n'" "-n"
  if grep -q "did you mean" "$dir/err"; then fail "-n got a guess: $(cat "$dir/err")"; fi
  # A value that starts with '-' is a value, not an unknown option.
  run "$bin" classify predict "$dir/m" --threshold -inf
  expect_rc 2 "--threshold -inf"
  expect_err "finite number" "--threshold -inf"
  # The old spellings are never suggested.
  run "$bin" similar "$vectors" king --topm 2
  expect_rc 2 "--topm"
  if grep -q "did you mean '--top" "$dir/err"; then fail "an old spelling suggested"; fi
  ;;

fasttext_spellings)
  # fastText's command lines, as its users type them, do what embedkit's own spelling does.
  run "$bin" skipgram -input "$corpus" -output "$dir/ft" -minCount 1 -dim 8 -epoch 2 -lr 0.05 \
    -ws 3 -neg 2 -t 1e-3 -seed 5 -thread 1 -loss ns
  expect_rc 0 "embedkit skipgram -input -output ..."
  [ -s "$dir/ft.vec" ] || fail "-output PREFIX did not write PREFIX.vec"
  run "$bin" train "$corpus" -o "$dir/ours.vec" --model skipgram --min-count 1 --dim 8 --epochs 2 \
    --lr 0.05 --window 3 --negative 2 --sample 1e-3 --seed 5 --threads 1 --loss ns
  expect_rc 0 "train in our spelling"
  same "$dir/ft.vec" "$dir/ours.vec" "skipgram in fastText's spelling against train"
  run "$bin" cbow -input "$corpus" -output "$dir/cb" -minCount 1 -dim 8 -epoch 1 -seed 5 -thread 1
  expect_rc 0 "embedkit cbow"
  run "$bin" train "$corpus" -o "$dir/cb2.vec" --model cbow --min-count 1 --dim 8 --epochs 1 \
    --seed 5 --threads 1
  same "$dir/cb.vec" "$dir/cb2.vec" "cbow against train --model cbow"
  labelled 200 > "$dir/t.txt"
  run "$bin" supervised -input "$dir/t.txt" -output "$dir/sup" -dim 8 -epoch 5 -lr 0.5 \
    -wordNgrams 2 -bucket 1000 -minCount 1 -thread 1 -seed 5 -label __label__
  expect_rc 0 "embedkit supervised"
  run "$bin" classify train "$dir/t.txt" -o "$dir/ours.safetensors" --dim 8 --epochs 5 --lr 0.5 \
    --word-ngrams 2 --buckets 1000 --min-count 1 --threads 1 --seed 5 --label-prefix __label__
  same "$dir/sup.safetensors" "$dir/ours.safetensors" "supervised against classify train"
  # fastText's spellings inside our own subcommands too.
  run "$bin" classify train "$dir/t.txt" -o "$dir/mixed.safetensors" -dim 8 -epoch 5 -lr 0.5 \
    -wordNgrams 2 -bucket 1000 -thread 1 -seed 5
  same "$dir/mixed.safetensors" "$dir/ours.safetensors" "classify train with -epoch -wordNgrams"
  # A fastText option embedkit does not have is refused by its name.
  run "$bin" supervised -input "$dir/t.txt" -output "$dir/x" -lrUpdateRate 100
  expect_rc 2 "-lrUpdateRate"
  expect_err "unknown option '-lrUpdateRate'" "-lrUpdateRate"
  ;;

fasttext_oracle)
  # One fastText command line, run by Debian's fasttext and by embedkit: both take it, and the
  # two classifiers it trains score alike on held-out lines. Status 77 (skipped) without
  # fasttext, unless EMBEDKIT_REQUIRE_ORACLES made it required.
  command -v fasttext > /dev/null || { echo "fasttext is not installed (Debian package fasttext)"; exit 77; }
  labelled 400 > "$dir/t.txt"
  awk 'NR % 3 == 0' "$dir/t.txt" > "$dir/held.txt"
  args=(supervised -input "$dir/t.txt" -dim 8 -epoch 5 -lr 0.5 -wordNgrams 2 -bucket 1000
        -minCount 1 -thread 1 -seed 5 -label __label__)
  fasttext "${args[@]}" -output "$dir/theirs" > "$dir/ft.log" 2>&1 ||
    fail "fasttext refused the command line: $(cat "$dir/ft.log")"
  run "$bin" "${args[@]}" -output "$dir/ours"
  expect_rc 0 "embedkit with fastText's command line"
  theirs=$(fasttext test "$dir/theirs.bin" "$dir/held.txt" 1 | awk '$1 == "P@1" { print $2 }')
  ours=$("$bin" classify test "$dir/ours.safetensors" "$dir/held.txt" -k 1 | awk -F'\t' '$1 == "P@1" { print $2 }')
  awk -v a="$theirs" -v b="$ours" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a >= 0.9 && b >= 0.9 && d <= 0.05) }' ||
    fail "P@1: fasttext $theirs, embedkit $ours"
  ;;

default_threads)
  # Training uses all cores unless told otherwise, and says how many it used.
  cores=$(getconf _NPROCESSORS_ONLN)
  run "$bin" train "$corpus" -o "$dir/v.txt" --min-count 1 --dim 8 --epochs 1
  expect_rc 0 "train"
  if [ "$cores" -eq 1 ]; then want="1 thread,"; else want="$cores threads,"; fi
  expect_out "$want" "train's summary"
  run "$bin" train "$corpus" -o "$dir/v.txt" --min-count 1 --dim 8 --epochs 1 --json
  expect_out "\"threads\": $cores," "train --json"
  run "$bin" train "$corpus" -o "$dir/v.txt" --min-count 1 --dim 8 --epochs 1 --threads 1
  expect_out "1 thread," "train --threads 1"
  labelled 100 > "$dir/t.txt"
  run "$bin" classify train "$dir/t.txt" -o "$dir/m.safetensors" --dim 4 --epochs 1
  expect_rc 0 "classify train"
  if [ "$cores" -eq 1 ]; then want="1 thread;"; else want="$cores threads;"; fi
  expect_out "$want" "classify train's summary"
  run "$bin" classify train "$dir/t.txt" -o "$dir/m.safetensors" --dim 4 --epochs 1 --json
  expect_out "\"threads\": $cores," "classify train --json"
  help_of train
  grep -q "all cores, here $cores" "$dir/help" || fail "train --help does not give the default"
  # One thread stays reproducible: two runs, the same bytes.
  run "$bin" classify train "$dir/t.txt" -o "$dir/a.safetensors" --dim 4 --epochs 2 --threads 1
  run "$bin" classify train "$dir/t.txt" -o "$dir/b.safetensors" --dim 4 --epochs 2 --threads 1
  same "$dir/a.safetensors" "$dir/b.safetensors" "classify train --threads 1, twice"
  ;;

batch_queries)
  # Many queries in one process, through a pipe: one block per query, in order, each the
  # answer the query gets alone.
  expected=""
  for w in king queen man; do
    expected+="$w"$'\n'"$("$bin" similar "$vectors" "$w" -k 2)"$'\n\n'
  done
  got=$(printf 'king\nqueen man\n' | "$bin" similar "$vectors" - -k 2; echo x)
  [ "${got%x}" = "$expected" ] || fail "similar through a pipe: '$got' expected '$expected'"
  got=$(printf 'king\nqueen man\n' | "$bin" similar "$vectors" -k 2; echo x)
  [ "${got%x}" = "$expected" ] || fail "similar with no WORD reads standard input"
  printf 'king\nqueen\nman\n' > "$dir/words.txt"
  got=$("$bin" similar "$vectors" --queries "$dir/words.txt" -k 2; echo x)
  [ "${got%x}" = "$expected" ] || fail "similar --queries FILE"
  got=$("$bin" similar "$vectors" king queen man -k 2; echo x)
  [ "${got%x}" = "$expected" ] || fail "similar WORD WORD WORD"
  # A word that is not there: its block is empty, the others are answered, status 1.
  printf 'king\nprince\nqueen\n' | "$bin" similar "$vectors" -k 1 > "$dir/out" 2> "$dir/err"
  [ $? -eq 1 ] || fail "a missing word in a batch: status not 1"
  [ "$(grep -c . "$dir/out")" -eq 5 ] || fail "a batch with a missing word: $(cat "$dir/out")"
  expect_err "'prince'" "the missing word named"
  printf 'king\nqueen\n' | "$bin" similar "$vectors" -k 1 --json > "$dir/out" || fail "--json batch"
  python3 -c 'import json, sys; a = json.load(open(sys.argv[1]));
assert [q["word"] for q in a] == ["king", "queen"], a' "$dir/out" 2> "$dir/err" ||
    fail "similar --json batch: $(cat "$dir/err")"
  # Analogies: "A B C" a line.
  one=$("$bin" analogy "$vectors" king man woman -k 1)
  got=$(printf 'king man woman\n' | "$bin" analogy "$vectors" -k 1)
  [ "$got" = "king man woman"$'\n'"$one" ] || fail "analogy through a pipe: '$got'"
  printf 'king man\n' | "$bin" analogy "$vectors" - > "$dir/out" 2> "$dir/err"
  [ $? -eq 1 ] || fail "an analogy line of two words: status not 1"
  expect_err "expected three words" "analogy line of two words"
  # VECTORS and the queries cannot both be standard input.
  run "$bin" similar - king < "$vectors"
  expect_rc 0 "similar VECTORS - with a WORD"
  run "$bin" similar - < "$vectors"
  expect_rc 1 "similar - with queries from standard input"
  expect_err "standard input is read once" "similar - -"
  # classify predict: one line of labels per line of text, the model loaded once.
  labelled 200 > "$dir/t.txt"
  "$bin" classify train "$dir/t.txt" -o "$dir/m.safetensors" "${cls[@]}" > /dev/null ||
    fail "classify train"
  got=$(printf 'alpha1 alpha2\nbeta0 beta3\nalpha3\n' | "$bin" classify predict "$dir/m.safetensors")
  [ "$(echo "$got" | wc -l)" -eq 3 ] || fail "predict through a pipe: '$got'"
  [ "$(echo "$got" | cut -d' ' -f1 | tr '\n' ' ')" = "__label__a __label__b __label__a " ] ||
    fail "predict labels: '$got'"
  # recommend topn and similar: ids, one a line.
  ratings > "$dir/r.csv"
  "$bin" recommend train "$dir/r.csv" -o "$dir/m.rec" --dim 4 --epochs 3 > /dev/null ||
    fail "recommend train"
  expected=""
  for u in u1 u2; do
    expected+="$u"$'\n'"$("$bin" recommend topn "$dir/m.rec" "$u" -k 3)"$'\n\n'
  done
  got=$(printf 'u1\nu2\n' | "$bin" recommend topn "$dir/m.rec" - -k 3; echo x)
  [ "${got%x}" = "$expected" ] || fail "topn through a pipe: '$got' expected '$expected'"
  printf 'u1\nu2\n' > "$dir/users.txt"
  got=$("$bin" recommend topn "$dir/m.rec" --queries "$dir/users.txt" -k 3; echo x)
  [ "${got%x}" = "$expected" ] || fail "topn --queries FILE"
  got=$(printf 'i1\n' | "$bin" recommend similar "$dir/m.rec" -k 2)
  [ "$got" = "i1"$'\n'"$("$bin" recommend similar "$dir/m.rec" i1 -k 2)" ] ||
    fail "recommend similar through a pipe: '$got'"
  ;;

implicit_ratings)
  # 'user item' pairs without ratings: read as implicit feedback (each rated 1), trained with
  # BPR, reported by ranking metrics alone.
  pairs > "$dir/p.csv"
  run "$bin" recommend train "$dir/p.csv" --dim 8 --epochs 5
  expect_rc 0 "recommend train on pairs"
  expect_out "trained BPR on" "pairs train BPR"
  expect_out "user-item pairs" "pairs are called pairs"
  expect_out "top-10: recall" "ranking metrics"
  if grep -q RMSE "$dir/out"; then fail "BPR reported RMSE: $(cat "$dir/out")"; fi
  expect_out "the model was not saved (give -o FILE to keep it)" "train without -o"
  run "$bin" recommend train "$dir/p.csv" --dim 8 --epochs 5 -o "$dir/p.rec" --json
  expect_rc 0 "recommend train on pairs --json"
  python3 -c 'import json, sys; j = json.load(open(sys.argv[1]));
assert j["implicit"] is True and j["objective"] == "bpr", j
assert j["test"] is None and j["ranking"]["recall"] >= 0, j' "$dir/out" 2> "$dir/err" ||
    fail "pairs --json: $(cat "$dir/err")"
  # Whitespace pairs read the same way.
  tail -n +2 "$dir/p.csv" | tr ',' ' ' > "$dir/p.txt"
  run "$bin" recommend train "$dir/p.txt" --dim 4 --epochs 1
  expect_rc 0 "whitespace pairs"
  expect_out "trained BPR on" "whitespace pairs train BPR"
  # The rating objective cannot learn from pairs: said so, status 1.
  run "$bin" recommend train "$dir/p.csv" --objective rating
  expect_rc 1 "--objective rating on pairs"
  expect_err "use --objective bpr" "--objective rating on pairs"
  # BPR on rated data: ranking only as well, in train and eval.
  ratings > "$dir/r.csv"
  run "$bin" recommend train "$dir/r.csv" --objective bpr --dim 4 --epochs 2 -o "$dir/b.rec"
  expect_rc 0 "bpr on ratings"
  if grep -q RMSE "$dir/out"; then fail "BPR reported RMSE"; fi
  expect_out "wrote $dir/b.rec" "train -o says where"
  run "$bin" recommend eval "$dir/b.rec" "$dir/r.csv"
  expect_rc 0 "eval of a BPR model"
  if grep -q RMSE "$dir/out"; then fail "eval of BPR reported RMSE"; fi
  expect_out "top-10: recall" "eval of BPR"
  # topn shows the raw ranking score; --json adds MF's predicted rating, clipped to the range.
  run "$bin" recommend train "$dir/r.csv" --dim 4 --epochs 3 -o "$dir/mf.rec"
  expect_rc 0 "mf"
  expect_out "RMSE" "MF reports RMSE"
  "$bin" recommend topn "$dir/mf.rec" u1 -k 5 --json > "$dir/topn.json" || fail "topn --json"
  python3 -c 'import json, sys; items = json.load(open(sys.argv[1]))["items"]
s = [i["score"] for i in items]
assert s == sorted(s, reverse=True), s
for i in items:
    assert 1 <= i["predicted_rating"] <= 5, i
    assert i["predicted_rating"] == min(max(i["score"], 1), 5) or abs(i["predicted_rating"] - min(max(i["score"], 1), 5)) < 1e-6, i' \
    "$dir/topn.json" 2> "$dir/err" || fail "topn scores: $(cat "$dir/err")"
  "$bin" recommend topn "$dir/p.rec" u1 -k 3 --json > "$dir/topn.json" || fail "BPR topn --json"
  if grep -q predicted_rating "$dir/topn.json"; then fail "BPR topn shows a predicted rating"; fi
  ;;

*)
  fail "unknown check"
  ;;
esac
echo "PASS $check"
