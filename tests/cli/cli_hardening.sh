#!/usr/bin/env bash
# Regression checks of the `embedkit` command against the attacks of issue 12: truncated gzip,
# pipes and '-', option values (NaN, ranges), files that yield nothing, outputs that are
# inputs, outputs checked before anything is written, huge tables, and hostile bytes in
# messages. Each check is its own CTest test:
#   cli_hardening.sh EMBEDKIT CORPUS VECTORS WORKDIR CHECK
# CORPUS is a small text corpus (tests/cli/data/two_groups.txt), VECTORS a small word2vec
# text file (tests/cli/data/royal.txt). Prints "PASS CHECK" on success.
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
expect_err() {  # extended regex what
  grep -Eq -- "$1" "$dir/err" || fail "$2: stderr lacks /$1/: $(head -c 2000 "$dir/err")"
}
no_huge_number() {  # what: no bound printed as a 300-digit number (DBL_MAX in full)
  if grep -Eq '[0-9]{40}' "$dir/err"; then fail "$1: a huge number in: $(cat "$dir/err")"; fi
}

train_opts=(--min-count 1 --dim 8 --epochs 2 --threads 1 --seed 5)

labelled() {  # lines: two labels told apart by their words
  awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) {
    if (i % 2) printf "__label__a alpha%d shared%d alpha%d\n", i % 4, i % 7, (i + 1) % 4;
    else printf "__label__b beta%d shared%d beta%d\n", i % 4, i % 7, (i + 1) % 4 } }'
}
ratings() {  # a few users, items and ratings
  echo "userId,movieId,rating,timestamp"
  awk 'BEGIN { for (u = 1; u <= 20; u++) for (i = 1; i <= 15; i++)
    if ((u * 7 + i * 3) % 4 != 0) printf "u%d,i%d,%d,%d\n", u, i, 1 + (u + i) % 5, u * 100 + i }'
}

case "$check" in

truncated_gzip)
  # Bug 3: a gzip corpus cut short trained with status 0 on part of the file.
  for i in $(seq 40); do cat "$corpus"; done | gzip -9 > "$dir/c.gz"
  size=$(wc -c < "$dir/c.gz")
  half=$((size / 2))
  head -c "$half" "$dir/c.gz" > "$dir/cut.gz"
  run "$bin" train "$dir/cut.gz" "$dir/v.txt" "${train_opts[@]}"
  expect_rc 1 "truncated gzip"
  expect_err "cut\.gz: truncated gzip file.* at byte $half of the compressed file" "truncated gzip"
  [ ! -e "$dir/v.txt" ] || fail "truncated gzip: an output was written"
  # Cut inside the trailer (CRC and length) as well.
  head -c $((size - 4)) "$dir/c.gz" > "$dir/cut.gz"
  run "$bin" train "$dir/cut.gz" "$dir/v.txt" "${train_opts[@]}"
  expect_rc 1 "gzip without its trailer"
  run "$bin" train "$dir/c.gz" "$dir/v.txt" "${train_opts[@]}"
  expect_rc 0 "whole gzip"
  ;;

stdin_corpus)
  # Bug 10: `cat corpus | embedkit train /dev/stdin out` wrote untrained vectors with status 0.
  # Every way of streaming the corpus must give the vectors the file gives (one thread, a seed).
  "$bin" train "$corpus" "$dir/file.txt" "${train_opts[@]}" > /dev/null || fail "train on the file"
  cat "$corpus" | "$bin" train - "$dir/dash.txt" "${train_opts[@]}" > /dev/null \
    || fail "train -"
  cmp -s "$dir/file.txt" "$dir/dash.txt" || fail "train - differs from the file"
  cat "$corpus" | "$bin" train /dev/stdin "$dir/devstdin.txt" "${train_opts[@]}" > /dev/null \
    || fail "train /dev/stdin"
  cmp -s "$dir/file.txt" "$dir/devstdin.txt" || fail "train /dev/stdin differs from the file"
  "$bin" train <(cat "$corpus") "$dir/procsub.txt" "${train_opts[@]}" > /dev/null \
    || fail "train <(...)"
  cmp -s "$dir/file.txt" "$dir/procsub.txt" || fail "process substitution differs from the file"
  gzip -c "$corpus" | "$bin" train - "$dir/gz.txt" "${train_opts[@]}" > /dev/null \
    || fail "train - (gzip)"
  cmp -s "$dir/file.txt" "$dir/gz.txt" || fail "gzip on stdin differs from the file"
  # A named pipe used to hang forever at 0%.
  mkfifo "$dir/fifo"
  (cat "$corpus" > "$dir/fifo") &
  writer=$!
  timeout 120 "$bin" train "$dir/fifo" "$dir/fifo.txt" "${train_opts[@]}" > /dev/null
  rc=$?
  kill "$writer" 2> /dev/null  # still waiting for a reader only when train never opened the FIFO
  wait "$writer" 2> /dev/null
  [ "$rc" -eq 0 ] || fail "train FIFO: status $rc"
  cmp -s "$dir/file.txt" "$dir/fifo.txt" || fail "FIFO differs from the file"
  # Standard output: the same vectors, the summary on stderr, no file named '-'.
  (cd "$dir" && "$bin" train "$corpus" - "${train_opts[@]}" > stdout.txt 2> summary.txt) \
    || fail "train OUT -"
  cmp -s "$dir/file.txt" "$dir/stdout.txt" || fail "train OUT - differs from the file"
  grep -q '^wrote ' "$dir/summary.txt" || fail "train OUT -: no summary on stderr"
  [ ! -e "$dir/-" ] || fail "train wrote a file named '-'"
  ;;

dash_vectors)
  # Bug 10: `convert v.vec -` wrote a file named '-'.
  (cd "$dir" && "$bin" convert "$vectors" - > stdout.txt 2> summary.txt) || fail "convert to -"
  [ ! -e "$dir/-" ] || fail "convert wrote a file named '-'"
  cmp -s "$vectors" "$dir/stdout.txt" || fail "convert to - is not the text file"
  "$bin" convert "$vectors" "$dir/ref.bin" > /dev/null || fail "convert to .bin"
  "$bin" convert "$vectors" - --to bin > "$dir/stdout.bin" 2> /dev/null || fail "convert --to bin -"
  cmp -s "$dir/ref.bin" "$dir/stdout.bin" || fail "binary on stdout differs from the file"
  "$bin" convert - "$dir/from-stdin.bin" < "$vectors" > /dev/null || fail "convert from -"
  cmp -s "$dir/ref.bin" "$dir/from-stdin.bin" || fail "convert from - differs"
  "$bin" convert - "$dir/rt.txt" --from bin < "$dir/ref.bin" > /dev/null || fail "bin from -"
  cmp -s "$vectors" "$dir/rt.txt" || fail "binary through stdin does not round-trip"
  run "$bin" convert "$vectors" - --to npy
  expect_rc 1 "npy to -"
  expect_err "npy writes two files" "npy to -"
  run "$bin" similar - king --topn 1 < "$vectors"
  expect_rc 0 "similar -"
  grep -q '^man' "$dir/out" || fail "similar -: $(cat "$dir/out")"
  printf 'king\tqueen\t3\nking\tman\t8\nman\twoman\t1\nking\tapple\t5\n' \
    | "$bin" eval "$vectors" --similarity - --json > "$dir/eval.json" || fail "eval --similarity -"
  grep -q '"pairs": ' "$dir/eval.json" || fail "eval --similarity -: $(cat "$dir/eval.json")"
  run "$bin" eval - --similarity - < "$vectors"
  expect_rc 2 "two inputs from -"
  printf 'king queen\n' | "$bin" plot "$vectors" - --words-file - > "$dir/plot.svg" 2> /dev/null \
    || fail "plot --words-file - to -"
  grep -q '<svg' "$dir/plot.svg" || fail "plot to -: no SVG on stdout"
  ;;

dash_models)
  # Bug 10, the classifier and the recommender: '-' for every file argument.
  labelled 200 > "$dir/train.txt"
  labelled 40 > "$dir/test.txt"
  copts=(--dim 8 --epochs 5 --lr 0.5 --threads 1)  # one thread: the same model every run
  "$bin" classify train - "$dir/m.safetensors" "${copts[@]}" < "$dir/train.txt" > /dev/null \
    || fail "classify train -"
  "$bin" classify train "$dir/train.txt" "$dir/ref.safetensors" "${copts[@]}" > /dev/null \
    || fail "classify train"
  cmp -s "$dir/m.safetensors" "$dir/ref.safetensors" || fail "classify train - differs"
  "$bin" classify train "$dir/train.txt" - "${copts[@]}" > "$dir/stdout.safetensors" 2> /dev/null \
    || fail "classify train MODEL -"
  cmp -s "$dir/ref.safetensors" "$dir/stdout.safetensors" || fail "classify MODEL - differs"
  a=$("$bin" classify test "$dir/ref.safetensors" - < "$dir/test.txt") || fail "classify test TEST -"
  b=$("$bin" classify test - "$dir/test.txt" < "$dir/ref.safetensors") || fail "classify test MODEL -"
  [ "$a" = "$b" ] && [ -n "$a" ] || fail "classify test through - differs: '$a' vs '$b'"
  run "$bin" classify predict - < "$dir/ref.safetensors"
  expect_rc 1 "classify predict MODEL - with INPUT -"
  expect_err "standard input is read once" "classify predict MODEL -"

  ratings > "$dir/r.csv"
  ropts=(--dim 4 --epochs 3 --test-fraction 0.2)
  "$bin" recommend train "$dir/r.csv" --out "$dir/ref.rec" "${ropts[@]}" > "$dir/a.txt" \
    || fail "recommend train"
  "$bin" recommend train - --out "$dir/rec" "${ropts[@]}" < "$dir/r.csv" > /dev/null \
    || fail "recommend train -"
  cmp -s "$dir/ref.rec" "$dir/rec" || fail "recommend train - differs"
  "$bin" recommend train "$dir/r.csv" --out - "${ropts[@]}" > "$dir/stdout.rec" 2> /dev/null \
    || fail "recommend train --out -"
  cmp -s "$dir/ref.rec" "$dir/stdout.rec" || fail "recommend --out - differs"
  a=$("$bin" recommend eval "$dir/ref.rec" - < "$dir/r.csv") || fail "recommend eval RATINGS -"
  b=$("$bin" recommend eval - "$dir/r.csv" < "$dir/ref.rec") || fail "recommend eval MODEL -"
  [ "$a" = "$b" ] && [ -n "$a" ] || fail "recommend eval through - differs"
  run "$bin" recommend train "$dir/r.csv" --write-split -
  expect_rc 1 "--write-split -"
  ;;

option_values)
  # Item 11: NaN and infinity refused for every floating option; bounds printed readably.
  labelled 20 > "$dir/t.txt"
  ratings > "$dir/r.csv"
  for args in "train $corpus $dir/v.txt --alpha nan" "train $corpus $dir/v.txt --alpha inf" \
              "train $corpus $dir/v.txt --sample nan" \
              "classify train $dir/t.txt $dir/m --lr nan" \
              "classify test $dir/m $dir/t.txt --threshold nan" \
              "classify predict $dir/m --threshold -inf" \
              "plot $vectors $dir/p.svg --method tsne --perplexity nan" \
              "plot $vectors $dir/p.svg --font-size nan" \
              "recommend train $dir/r.csv --min-rating nan" \
              "recommend train $dir/r.csv --lr inf" "recommend train $dir/r.csv --l2 nan" \
              "recommend train $dir/r.csv --l2-bias nan" "recommend train $dir/r.csv --init-std inf" \
              "recommend train $dir/r.csv --test-fraction nan" \
              "recommend eval $dir/m $dir/r.csv --min-rating nan"; do
    # shellcheck disable=SC2086
    run "$bin" $args
    expect_rc 2 "$args"
    expect_err "finite number" "$args"
  done
  for args in "train $corpus $dir/v.txt --alpha -1" "train $corpus $dir/v.txt --min-count 0" \
              "similar $vectors king --topn -1" "plot $vectors $dir/p.svg --top 0" \
              "recommend train $dir/r.csv --l2 -1" "recommend train $dir/r.csv --lr 0" \
              "classify train $dir/t.txt $dir/m --lr -2" "train $corpus $dir/v.txt --sample 2" \
              "classify test $dir/m $dir/t.txt --threshold 1.5" \
              "plot $vectors $dir/p.svg --seed -3"; do
    # shellcheck disable=SC2086
    run "$bin" $args
    expect_rc 2 "$args"
    no_huge_number "$args"
  done
  run "$bin" train "$corpus" "$dir/v.txt" --sample 2
  expect_err "from 0 to 1" "--sample 2"
  run "$bin" train "$corpus" "$dir/v.txt" --alpha -1
  expect_err "> 0" "--alpha -1"
  # Every --seed is one validator (option_checks.hpp): -3 is refused, not wrapped to 2^64 - 3.
  for args in "train $corpus $dir/v.txt --seed -3" "classify train $dir/t.txt $dir/m --seed -3" \
              "recommend train $dir/r.csv --seed -3" "tour --seed -3"; do
    # shellcheck disable=SC2086
    run "$bin" $args
    expect_rc 2 "$args"
    expect_err "expected a whole number from 0 to 2\^64 - 1, got '-3'" "$args"
  done
  "$bin" train --help > "$dir/help.txt" || fail "train --help"
  if grep -Eq '[0-9]{40}' "$dir/help.txt"; then fail "a huge number in train --help"; fi
  ;;

eval_nothing)
  # Item 11: `eval` on a file with nothing usable reported "pairs 0, spearman nan", status 0.
  printf 'this is not\na similarity file\n' > "$dir/bad.tsv"
  run "$bin" eval "$vectors" --similarity "$dir/bad.tsv"
  expect_rc 1 "unparseable similarity file"
  expect_err "bad\.tsv: no word pairs" "unparseable similarity file"
  printf 'zzz\tyyy\t3\nxxx\twww\t4\n' > "$dir/oov.tsv"
  run "$bin" eval "$vectors" --similarity "$dir/oov.tsv"
  expect_rc 1 "similarity file with only unknown words"
  printf ': capitals\nzzz yyy xxx www\n' > "$dir/oov.txt"
  run "$bin" eval "$vectors" --analogies "$dir/oov.txt"
  expect_rc 1 "analogy file with only unknown words"
  expect_err "none of the 1 analogy questions" "analogy file with only unknown words"
  printf 'no questions here\n' > "$dir/bad.txt"
  run "$bin" eval "$vectors" --analogies "$dir/bad.txt"
  expect_rc 1 "analogy file without questions"
  # --restrict 0 skipped every question, and the error said the words were not in the vectors.
  printf ': royal\nman king woman queen\n' > "$dir/royal.txt"
  run "$bin" eval "$vectors" --analogies "$dir/royal.txt" --restrict 0
  expect_rc 2 "eval --restrict 0"
  expect_err "restrict: expected a value > 0" "eval --restrict 0"
  # A gold score beyond double's range was read as 0 and counted (spearman -0.5 from 3 pairs).
  printf 'king\tqueen\t1e400\nman\twoman\t3\nking\tman\t1\n' > "$dir/range.tsv"
  run "$bin" eval "$vectors" --similarity "$dir/range.tsv"
  expect_rc 0 "similarity file with a score out of range"
  grep -q "spearman -1.0000, pearson -1.0000, pairs 2," "$dir/out" ||
    fail "a score of 1e400 was counted: $(cat "$dir/out")"
  ;;

plot_outputs_first)
  # Item 11: `plot a.svg b.png` wrote a.svg, then failed on the unwritable b.png.
  run "$bin" plot "$vectors" "$dir/a.svg" "$dir/no-such-dir/b.png"
  expect_rc 1 "plot with an unwritable PNG"
  [ ! -e "$dir/a.svg" ] || fail "plot wrote the SVG before finding the PNG unwritable"
  run "$bin" plot "$vectors" "$dir/a.svg" "$dir/./a.svg"
  expect_rc 1 "plot to the same file twice"
  expect_err "are the same file" "plot to the same file twice"
  run "$bin" plot "$vectors" "$dir/a.svg" "$dir/b.png"
  expect_rc 0 "plot"
  [ -s "$dir/a.svg" ] && [ -s "$dir/b.png" ] || fail "plot did not write both files"
  ;;

output_is_input)
  # Item 11: an output path equal to the training input silently replaced the input.
  cp "$corpus" "$dir/c.txt"
  for out in "$dir/c.txt" "$dir/./c.txt" "$dir/../$(basename "$dir")/c.txt"; do
    run "$bin" train "$dir/c.txt" "$out" "${train_opts[@]}"
    expect_rc 1 "train OUT = CORPUS ($out)"
    expect_err "same file as CORPUS" "train OUT = CORPUS"
    cmp -s "$corpus" "$dir/c.txt" || fail "train replaced its corpus"
  done
  ln "$dir/c.txt" "$dir/hardlink.txt"
  run "$bin" train "$dir/c.txt" "$dir/hardlink.txt" "${train_opts[@]}"
  expect_rc 1 "train OUT = a hard link to CORPUS"
  cmp -s "$corpus" "$dir/c.txt" || fail "train replaced its corpus through a hard link"
  cp "$vectors" "$dir/v.txt"
  run "$bin" convert "$dir/v.txt" "$dir/v.txt"
  expect_rc 1 "convert OUT = IN"
  cmp -s "$vectors" "$dir/v.txt" || fail "convert replaced its input"
  cp "$vectors" "$dir/w.vocab"
  run "$bin" convert "$dir/w.vocab" "$dir/w.npy" --from word2vec
  expect_rc 1 "convert to an .npy whose .vocab is IN"
  cmp -s "$vectors" "$dir/w.vocab" || fail "convert replaced its input by the .npy side file"
  labelled 20 > "$dir/t.txt"
  cp "$dir/t.txt" "$dir/t.orig"
  run "$bin" classify train "$dir/t.txt" "$dir/t.txt" --dim 4 --epochs 1
  expect_rc 1 "classify train MODEL = TRAIN"
  cmp -s "$dir/t.orig" "$dir/t.txt" || fail "classify train replaced its training file"
  ratings > "$dir/r.csv"
  cp "$dir/r.csv" "$dir/r.orig"
  run "$bin" recommend train "$dir/r.csv" --out "$dir/r.csv" --epochs 1
  expect_rc 1 "recommend train --out = RATINGS"
  run "$bin" recommend train "$dir/r.csv" --write-split "$dir" --epochs 1 --dim 2
  expect_rc 0 "recommend --write-split next to RATINGS"
  run "$bin" recommend train "$dir/train.csv" --write-split "$dir" --epochs 1 --dim 2
  expect_rc 1 "recommend --write-split over RATINGS"
  cmp -s "$dir/r.orig" "$dir/r.csv" || fail "recommend train replaced its ratings"
  ;;

huge_buckets)
  # Item 11: a huge --buckets gave a bare std::bad_alloc.
  labelled 20 > "$dir/t.txt"
  run "$bin" classify train "$dir/t.txt" "$dir/m" --word-ngrams 2 --buckets 10000000000 --dim 100
  expect_rc 1 "--buckets 1e10"
  expect_err "--buckets 10000000000 needs 3\.6 TiB for --dim 100" "--buckets 1e10"
  if grep -q bad_alloc "$dir/err"; then fail "--buckets: bare bad_alloc"; fi
  [ ! -e "$dir/m" ] || fail "--buckets: a model was written"
  ;;

hostile_bytes)
  # Item 11: raw non-UTF-8 bytes (and escape sequences) were echoed to the terminal.
  word=$(printf 'caf\xe9\033[31mred')
  run "$bin" similar "$vectors" "$word"
  expect_rc 1 "unknown hostile word"
  expect_err 'caf\\xE9\\x1B\[31mred' "escaped word"
  if LC_ALL=C grep -q "$(printf '\033')" "$dir/err"; then fail "an escape byte reached stderr"; fi
  if LC_ALL=C grep -q "$(printf '\351')" "$dir/err"; then fail "a raw 0xE9 reached stderr"; fi
  run "$bin" train "$dir/$(printf 'no\xffsuch')" "$dir/v.txt"
  expect_rc 1 "hostile corpus path"
  expect_err 'no\\xFFsuch' "escaped path"
  if LC_ALL=C grep -q "$(printf '\377')" "$dir/err"; then fail "a raw 0xFF reached stderr"; fi
  run "$bin" plot "$vectors" "$dir/$(printf 'x\033y').pdf"
  expect_rc 2 "hostile path in a usage error"
  expect_err 'x\\x1By\.pdf' "usage error escaped"
  if LC_ALL=C grep -q "$(printf '\033')" "$dir/err"; then fail "an escape byte reached stderr"; fi
  # Valid UTF-8 is shown as it is.
  run "$bin" similar "$vectors" "café"
  expect_err "café" "UTF-8 word"
  ;;

binary_to_terminal)
  # Bug 10, output '-': binary vectors or models are refused when standard output is a terminal
  # (a pseudo-terminal here, made by Python's pty module).
  command -v python3 > /dev/null || { echo "no python3: skipped"; exit 77; }
  on_terminal() {  # runs the command with stdout on a pty; prints its output, exits with its status
    python3 - "$@" <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
  }
  out=$(on_terminal "$bin" convert "$vectors" - --to bin)
  rc=$?
  [ "$rc" -eq 1 ] || fail "binary vectors to a terminal: status $rc"
  echo "$out" | grep -q "standard output is a terminal" || fail "binary to a terminal: $out"
  out=$(on_terminal "$bin" convert "$vectors" -)
  rc=$?
  [ "$rc" -eq 0 ] || fail "text vectors to a terminal: status $rc"
  echo "$out" | grep -q "^king " || fail "text vectors to a terminal: $out"
  ;;

directory_inputs)
  # Item 11: a directory given as a ratings or labelled-text file was "no ratings in the file"
  # or a bare "read error".
  mkdir "$dir/d"
  run "$bin" recommend train "$dir/d"
  expect_rc 1 "recommend train DIR"
  expect_err "d: is a directory" "recommend train DIR"
  run "$bin" classify train "$dir/d" "$dir/m"
  expect_rc 1 "classify train DIR"
  expect_err "d: is a directory" "classify train DIR"
  run "$bin" train "$dir/d" "$dir/v.txt"
  expect_rc 1 "train DIR"
  expect_err "d: is a directory" "train DIR"
  # The other files read as text: a bare "read error", or (eval) a message without the path.
  labelled 40 > "$dir/l.txt"
  "$bin" classify train "$dir/l.txt" -o "$dir/m.st" --dim 4 --epochs 1 --threads 1 \
    > /dev/null 2>&1 || fail "classify train for the directory checks"
  ratings > "$dir/r.csv"
  "$bin" recommend train "$dir/r.csv" -o "$dir/r.st" --epochs 1 > /dev/null 2>&1 ||
    fail "recommend train for the directory checks"
  for args in "similar $vectors --queries $dir/d" "analogy $vectors --queries $dir/d" \
      "eval $vectors --analogies $dir/d" "eval $vectors --similarity $dir/d" \
      "plot $vectors --words-file $dir/d -o $dir/p.svg" "classify predict $dir/m.st $dir/d" \
      "recommend topn $dir/r.st u1 --titles $dir/d" "recommend topn $dir/r.st --queries $dir/d"; do
    run "$bin" $args
    expect_rc 1 "$args"
    expect_err "d: is a directory" "$args"
  done
  ;;

*)
  fail "unknown check"
  ;;
esac
echo "PASS $check"
