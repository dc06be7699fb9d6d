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
# The word index stored beside the pair (s.vocab.wordindex, docs/memory-mapping.md), on a pair of
# its own: the answers with no store (the pair just written), once it is written, with it, stale
# and damaged are the same bytes.
"$bin" convert "$txt" "$dir/s.npy" > /dev/null || fail "convert to s.npy"
s_similar=$("$bin" similar "$dir/s.npy" king woman -k 4) || fail "similar on s.npy"
[ ! -e "$dir/s.vocab.wordindex" ] || fail "a pair written just now had its word index stored"
s_eval=$("$bin" eval "$dir/s.npy" --analogies "$data/analogies.txt" --similarity \
         "$data/pairs.tsv" --json) || fail "eval on s.npy"
s_analogy=$("$bin" analogy "$dir/s.npy" king man woman --json) || fail "analogy on s.npy"
# (On a slow machine the pair may have settled by now, and its index been stored: removed, so
# that the first command after the pause below writes it.)
rm -f "$dir/s.vocab.wordindex"
sleep 2.2
got=$("$bin" similar "$dir/r.npy" king -k 3) || fail "similar on a settled r.npy"
[ "$got" = "$want" ] || fail "similar on a settled r.npy: $got (first: $want)"
grep -q '^embedkit-pair-verified format=1 ' "$dir/r.vocab.verified" ||
  fail "no record of the verified pair: $(ls "$dir")"
got=$("$bin" similar "$dir/r.npy" king -k 3) || fail "similar on a recorded r.npy"
[ "$got" = "$want" ] || fail "similar on a recorded r.npy: $got (first: $want)"
s_same() {  # WHY: every answer on s.npy as with no store
  local got
  got=$("$bin" similar "$dir/s.npy" king woman -k 4) || fail "similar on s.npy, $1"
  [ "$got" = "$s_similar" ] || fail "similar on s.npy, $1: $got (no store: $s_similar)"
  got=$("$bin" eval "$dir/s.npy" --analogies "$data/analogies.txt" --similarity \
        "$data/pairs.tsv" --json) || fail "eval on s.npy, $1"
  [ "$got" = "$s_eval" ] || fail "eval on s.npy, $1: $got (no store: $s_eval)"
  got=$("$bin" analogy "$dir/s.npy" king man woman --json) || fail "analogy on s.npy, $1"
  [ "$got" = "$s_analogy" ] || fail "analogy on s.npy, $1: $got (no store: $s_analogy)"
}
s_same "settled: the store written"
grep -q '^embedkit-word-index format=2 ' "$dir/s.vocab.wordindex" ||
  fail "no word index stored: $(ls "$dir")"
cp "$dir/s.vocab.wordindex" "$dir/s-good.wordindex"
inode=$(stat -c %i "$dir/s.vocab.wordindex")
s_same "the store present"
[ "$(stat -c %i "$dir/s.vocab.wordindex")" = "$inode" ] || fail "a good store was written again"
# Damaged (a byte of its table flipped), cut, longer: read in full, the same answers, and (the
# pair being settled) the good store written again in its place.
size=$(stat -c %s "$dir/s.vocab.wordindex")
for damage in flip cut longer; do
  cp "$dir/s-good.wordindex" "$dir/s.vocab.wordindex"
  case $damage in
    flip) printf '\x55' | dd of="$dir/s.vocab.wordindex" bs=1 seek=$((size / 2)) conv=notrunc \
            status=none ;;
    cut) truncate -s $((size - 4)) "$dir/s.vocab.wordindex" ;;
    longer) printf 'x' >> "$dir/s.vocab.wordindex" ;;
  esac
  cmp -s "$dir/s.vocab.wordindex" "$dir/s-good.wordindex" && fail "the $damage did not change it"
  s_same "a $damage store"
  cmp -s "$dir/s.vocab.wordindex" "$dir/s-good.wordindex" || fail "a $damage store was kept"
done
# Another pair's store (r's, the same words with the same values but another pair of files): not
# trusted, the same answers, s's own store written again.
"$bin" similar "$dir/r.npy" king -k 1 > /dev/null || fail "similar on r.npy to store its index"
cp "$dir/r.vocab.wordindex" "$dir/s.vocab.wordindex" || fail "r.npy's word index not stored"
s_same "r's store copied over s's"
cmp -s "$dir/s.vocab.wordindex" "$dir/s-good.wordindex" || fail "r's store was kept for s"
# Stale: the vocabulary touched (its status-change time moves).
touch "$dir/s.vocab"
s_same "the vocabulary touched"
# A repeated word, with that stale store beside it: the reader's own message.
sed -i 's/^man$/king/' "$dir/s.vocab"
err=$("$bin" similar "$dir/s.npy" king 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "s.vocab with a repeated word: exit $rc: $err"
echo "$err" | grep -q "word 'king' appears twice" || fail "s.vocab with a repeated word: $err"
rm "$dir/s.vocab.wordindex"
[ "$("$bin" similar "$dir/s.npy" king 2>&1)" = "$err" ] ||
  fail "s.vocab with a repeated word: another message without the store"

size=$(stat -c %s "$dir/r.npy")
printf '\x7f' | dd of="$dir/r.npy" bs=1 seek=$((size - 2)) conv=notrunc status=none
[ "$(stat -c %s "$dir/r.npy")" = "$size" ] || fail "the poke changed r.npy's size"
err=$("$bin" similar "$dir/r.npy" king -k 3 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "r.npy changed in place after its record: exit $rc: $err"
echo "$err" | grep -q "the two files are not one save" ||
  fail "r.npy changed in place after its record: $err"
echo "PASS mapped"
