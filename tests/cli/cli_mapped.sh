#!/usr/bin/env bash
# `similar`, `analogy` and `eval` on mapped vectors files (.npy + .vocab, safetensors): the same
# answers as on the text file, many queries from standard input in one process, the file really
# mapped, and a truncated file refused with the reader's message.
#   cli_mapped.sh EMBEDKIT DATA_DIR WORKDIR
set -u
bin=$1
data=$2
dir=$3
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }

txt="$data/royal.txt"
"$bin" convert "$txt" "$dir/v.npy" > /dev/null || fail "convert to npy"
"$bin" convert "$txt" "$dir/v.safetensors" > /dev/null || fail "convert to safetensors"

for f in "$dir/v.npy" "$dir/v.safetensors"; do
  want=$("$bin" similar "$txt" king woman -k 3) || fail "similar on text"
  got=$("$bin" similar "$f" king woman -k 3) || fail "similar on $f"
  [ "$got" = "$want" ] || fail "similar on $f: $got (text: $want)"
  # Many queries in one process, one word a line on standard input.
  got=$(printf 'king\nwoman\nman\n' | "$bin" similar "$f" - -k 2) || fail "similar $f -"
  want=$(printf 'king\nwoman\nman\n' | "$bin" similar "$txt" - -k 2) || fail "similar text -"
  [ "$got" = "$want" ] || fail "similar $f -: $got (text: $want)"
  [ "$(echo "$got" | grep -c $'\t')" = 6 ] || fail "similar $f -: not 2 answers a query: $got"
  want=$("$bin" analogy "$txt" king man woman --json) || fail "analogy on text"
  got=$("$bin" analogy "$f" king man woman --json) || fail "analogy on $f"
  [ "$got" = "$want" ] || fail "analogy on $f: $got (text: $want)"
  # The same report but for the "vectors" line, which names the file.
  want=$("$bin" eval "$txt" --analogies "$data/analogies.txt" --similarity "$data/pairs.tsv" \
         --json | grep -v '"vectors":') || fail "eval on text"
  got=$("$bin" eval "$f" --analogies "$data/analogies.txt" --similarity "$data/pairs.tsv" \
        --json | grep -v '"vectors":') || fail "eval on $f"
  [ "$got" = "$want" ] || fail "eval on $f: $got (text: $want)"
done

# `eval` makes no unit-norm copy of a mapped matrix (docs/memory-mapping.md): it reads only the
# rows its questions and pairs reach, so a NaN in the last row, beyond --restrict 300 and the norm
# blocks of 256 rows the first 300 words lie in, is never read (a copy would read it and refuse
# it), and the report is the one of the same vectors without the NaN, as text.
awk 'BEGIN { print "600 3"; for (i = 0; i < 600; i++) printf "w%d %.4f %.4f %.4f\n", i,
             sin(i), cos(3 * i), sin(7 * i + 1) }' > "$dir/n.vec"
"$bin" convert "$dir/n.vec" "$dir/n.safetensors" > /dev/null || fail "convert n.vec"
size=$(stat -c %s "$dir/n.safetensors")
# The data ends the file: its last 4 bytes are w599's last value.
printf '\x00\x00\xc0\x7f' | dd of="$dir/n.safetensors" bs=1 seek=$((size - 4)) conv=notrunc \
  status=none
printf ': s\nw1 w2 w3 w4\nw10 w20 w30 w40\nw5 w6 w7 w299\n' > "$dir/n-questions.txt"
printf 'w1\tw2\t5\nw3\tw10\t2\nw100\tw200\t7\nw7\tw299\t1\nw8\tw9\t3\n' > "$dir/n-pairs.tsv"
want=$("$bin" eval "$dir/n.vec" --analogies "$dir/n-questions.txt" --similarity \
       "$dir/n-pairs.tsv" --restrict 300 --json | grep -v '"vectors":') || fail "eval on n.vec"
got=$("$bin" eval "$dir/n.safetensors" --analogies "$dir/n-questions.txt" --similarity \
      "$dir/n-pairs.tsv" --restrict 300 --json 2>&1) ||
  fail "eval on n.safetensors read a row it does not need: $got"
got=$(echo "$got" | grep -v '"vectors":')
[ "$got" = "$want" ] || fail "eval on n.safetensors: $got (text: $want)"
# The NaN is there: a search of every row reaches it.
err=$("$bin" similar "$dir/n.safetensors" w1 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "similar on n.safetensors with a NaN: exit $rc: $err"
echo "$err" | grep -q "the vector of 'w599' holds a non-finite value at column 2" ||
  fail "similar on n.safetensors with a NaN: $err"

# The file is mapped, not read: while `similar` waits for its queries, /proc/PID/maps names it.
if [ -r /proc/self/maps ]; then
  mkfifo "$dir/queries"
  "$bin" similar "$dir/v.npy" - -k 1 < "$dir/queries" > "$dir/fifo.out" 2>&1 &
  pid=$!
  exec 3> "$dir/queries"
  mapped=0
  for _ in $(seq 100); do
    if grep -q "$dir/v.npy\$" "/proc/$pid/maps" 2> /dev/null; then mapped=1; break; fi
    sleep 0.1
  done
  echo king >&3
  exec 3>&-
  wait "$pid" || fail "similar over a FIFO of queries: $(cat "$dir/fifo.out")"
  [ "$mapped" = 1 ] || fail "v.npy never appeared in /proc/$pid/maps: it was not mapped"
  grep -q $'^man\t' "$dir/fifo.out" || fail "similar over a FIFO: $(cat "$dir/fifo.out")"
fi

# A truncated .npy: refused, with the message of the reader, nothing written.
head -c 180 "$dir/v.npy" > "$dir/cut.npy"
cp "$dir/v.vocab" "$dir/cut.vocab"
err=$("$bin" similar "$dir/cut.npy" king 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "truncated .npy: exit $rc: $err"
echo "$err" | grep -q "cut.npy: npy shape (5, 3) needs its bytes" || fail "truncated .npy: $err"
# A truncated safetensors file: the same.
head -c 60 "$dir/v.safetensors" > "$dir/cut.safetensors"
err=$("$bin" similar "$dir/cut.safetensors" king 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "truncated safetensors: exit $rc: $err"
echo "$err" | grep -q "cut.safetensors" || fail "truncated safetensors: $err"
# A word out of the vocabulary: the same error as on the text file.
want=$("$bin" similar "$txt" nosuchword 2>&1)
got=$("$bin" similar "$dir/v.npy" nosuchword 2>&1)
[ "$got" = "$want" ] || fail "unknown word: $got (text: $want)"

# The pair's checksum, remembered (docs/memory-mapping.md): a pair written just now is checked
# but not recorded; once its times are 2 s old, the command records it beside the vocabulary,
# answers the same, and a matrix then changed in place (same size) is still refused.
"$bin" convert "$txt" "$dir/r.npy" > /dev/null || fail "convert to r.npy"
want=$("$bin" similar "$dir/r.npy" king -k 3) || fail "similar on r.npy"
[ ! -e "$dir/r.vocab.verified" ] || fail "a pair written just now was recorded"
sleep 2.2
got=$("$bin" similar "$dir/r.npy" king -k 3) || fail "similar on a settled r.npy"
[ "$got" = "$want" ] || fail "similar on a settled r.npy: $got (first: $want)"
grep -q '^embedkit-pair-verified format=1 ' "$dir/r.vocab.verified" ||
  fail "no record of the verified pair: $(ls "$dir")"
got=$("$bin" similar "$dir/r.npy" king -k 3) || fail "similar on a recorded r.npy"
[ "$got" = "$want" ] || fail "similar on a recorded r.npy: $got (first: $want)"
size=$(stat -c %s "$dir/r.npy")
printf '\x7f' | dd of="$dir/r.npy" bs=1 seek=$((size - 2)) conv=notrunc status=none
[ "$(stat -c %s "$dir/r.npy")" = "$size" ] || fail "the poke changed r.npy's size"
err=$("$bin" similar "$dir/r.npy" king -k 3 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "r.npy changed in place after its record: exit $rc: $err"
echo "$err" | grep -q "the two files are not one save" ||
  fail "r.npy changed in place after its record: $err"
echo "PASS mapped"
