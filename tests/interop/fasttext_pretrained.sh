#!/usr/bin/env bash
# `classify train --pretrained-vectors` against fastText's `supervised -pretrainedVectors`: the
# same vocabulary (every pretrained word joins it, counts + 1) and the same starting rows. With a
# learning rate too small to move anything, the trained model's word vectors are its start: ours
# (through `convert --to fasttext-bin`) and fastText's, printed by `fasttext print-word-vectors`,
# must be the pretrained vectors for the pretrained words.
#   fasttext_pretrained.sh EMBEDKIT WORKDIR   (exit 77 without the fasttext command)
set -u
bin=$1
dir=$2
command -v fasttext > /dev/null || { echo "fastText is not installed (Debian package fasttext)"; exit 77; }
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }

awk 'BEGIN { srand(5); for (i = 0; i < 300; i++) { c = (rand() < 0.5) ? "a" : "b";
  printf "__label__%s %s%d shared%d %s%d\n", c, c, int(rand() * 5), int(rand() * 9), c, int(rand() * 5) } }' \
  > "$dir/train.txt"
# Known words, a word never in training (zzz, newword), values exact in binary and in text.
printf '4 3\na1 0.5 0.25 -1\nzzz 1 2 3\nshared1 0.125 0 0\nnewword -0.5 -0.5 -0.5\n' > "$dir/p.vec"

"$bin" classify train "$dir/train.txt" -o "$dir/ours.safetensors" --dim 3 --epochs 1 --lr 1e-30 \
  --threads 1 --pretrained-vectors "$dir/p.vec" > /dev/null 2> "$dir/err" || fail "train: $(cat "$dir/err")"
"$bin" convert "$dir/ours.safetensors" -o "$dir/ours.bin" --to fasttext-bin > /dev/null || fail "convert"
fasttext supervised -input "$dir/train.txt" -output "$dir/theirs" -dim 3 -epoch 1 -lr 0 \
  -thread 1 -pretrainedVectors "$dir/p.vec" -verbose 0 || fail "fasttext supervised"

# The vocabularies: the same words with the same counts (fastText sorts ties in no set order).
for m in ours theirs; do
  fasttext dump "$dir/$m.bin" dict | tail -n +2 | sort > "$dir/$m.dict" || fail "dump $m"
done
cmp -s "$dir/ours.dict" "$dir/theirs.dict" ||
  fail "vocabularies differ: $(diff "$dir/ours.dict" "$dir/theirs.dict" | head)"
grep -qx 'zzz 1 word' "$dir/ours.dict" || fail "the new pretrained word is not in the vocabulary"
grep -qx 'a1 [0-9]* word' "$dir/ours.dict" || fail "a1 missing"

for m in ours theirs; do
  echo "a1 zzz shared1 newword" | tr ' ' '\n' | fasttext print-word-vectors "$dir/$m.bin" \
    > "$dir/$m.vectors" || fail "print-word-vectors $m"
done
tail -n +2 "$dir/p.vec" | sed 's/$/ /' > "$dir/want.vectors"
cmp -s "$dir/ours.vectors" "$dir/want.vectors" ||
  fail "our start is not the pretrained vectors: $(cat "$dir/ours.vectors")"
cmp -s "$dir/theirs.vectors" "$dir/want.vectors" ||
  fail "fastText's start is not the pretrained vectors: $(cat "$dir/theirs.vectors")"
echo "pretrained vectors: the same vocabulary and start as fastText"
