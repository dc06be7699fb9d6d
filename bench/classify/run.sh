#!/usr/bin/env bash
# fastText against `embedkit classify` on SST-2 and TREC (coarse labels), same splits, same
# threads, same options: prints P@1 and training seconds (wall clock, data loading included).
#
#   bench/classify/run.sh [DATA_DIR] [EMBEDKIT] [FASTTEXT] [THREADS] [REPEATS]
#
# DATA_DIR holds sst2/sentiment-{train,test} ("sentence<TAB>label") and
# trec/{train_5500,TREC_10}.label ("COARSE:fine question"); default ../shared/data/classification.
# Both are converted to fastText's format ("__label__x words", case kept) by convert.sh, and both
# tools read the converted files. REPEATS (default 1) runs each training that many times and
# reports the median time and the median P@1. ONLY (environment, a regex) runs only the
# configurations whose "DATA NAME" matches, e.g. ONLY=minn3 for the subword rows.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-../shared/data/classification}
embedkit=${2:-build/tools/embedkit/embedkit}
fasttext=${3:-fasttext}
threads=${4:-2}
repeats=${5:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$here/convert.sh" "$data" "$work"

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# run TOOL NAME TRAIN TEST OPTIONS... -> "p@1 seconds" (medians over REPEATS)
run() {
  local tool=$1 name=$2 train=$3 test=$4
  shift 4
  local times=() precisions=()
  for ((r = 0; r < repeats; r++)); do
    local t0 t1 p
    if [ "$tool" = fasttext ]; then
      local ft_args=()
      for a in "$@"; do
        case $a in
          --epochs) ft_args+=(-epoch) ;; --lr) ft_args+=(-lr) ;;
          --word-ngrams) ft_args+=(-wordNgrams) ;; --minn) ft_args+=(-minn) ;;
          --maxn) ft_args+=(-maxn) ;; *) ft_args+=("$a") ;;
        esac
      done
      t0=$(now)
      "$fasttext" supervised -input "$train" -output "$work/ft_$name" -thread "$threads" \
        -verbose 0 "${ft_args[@]}" > /dev/null
      t1=$(now)
      p=$("$fasttext" test "$work/ft_$name.bin" "$test" 1 | awk '$1 == "P@1" { print $2 }')
    else
      t0=$(now)
      "$embedkit" classify train "$train" "$work/ek_$name.safetensors" --threads "$threads" \
        "$@" > /dev/null
      t1=$(now)
      p=$("$embedkit" classify test "$work/ek_$name.safetensors" "$test" |
        awk -F'\t' '$1 == "P@1" { print $2 }')
    fi
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
    precisions+=("$p")
  done
  echo "$(printf '%s\n' "${precisions[@]}" | median) $(printf '%s\n' "${times[@]}" | median)"
}

printf '%-6s %-32s %-9s %10s %10s %10s %10s\n' data configuration threads \
  "fastText" "embedkit" "fastText" "embedkit"
printf '%-6s %-32s %-9s %10s %10s %10s %10s\n' "" "" "" "P@1" "P@1" "seconds" "seconds"
bench() {  # data name options...
  local set=$1 name=$2
  shift 2
  [[ "$set $name" =~ ${ONLY:-.} ]] || return 0
  local ft ek
  ft=$(run fasttext "${set}_$name" "$work/$set.train" "$work/$set.test" "$@")
  ek=$(run embedkit "${set}_$name" "$work/$set.train" "$work/$set.test" "$@")
  printf '%-6s %-32s %-9s %10s %10s %10s %10s\n' "$set" "$name" "$threads" \
    "${ft% *}" "${ek% *}" "${ft#* }" "${ek#* }"
}
bench sst2 defaults
bench sst2 "25ep-lr0.5-bigrams" --epochs 25 --lr 0.5 --word-ngrams 2
bench sst2 "minn3-maxn6" --minn 3 --maxn 6
bench sst2 "25ep-lr0.5-bigrams-minn3-maxn6" --epochs 25 --lr 0.5 --word-ngrams 2 --minn 3 --maxn 6
bench trec defaults
bench trec "25ep-lr0.5" --epochs 25 --lr 0.5
bench trec "25ep-lr0.5-bigrams" --epochs 25 --lr 0.5 --word-ngrams 2
