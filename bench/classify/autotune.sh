#!/usr/bin/env bash
# Autotune against fastText's at equal budgets: `embedkit classify train --autotune-validation`
# and `fasttext supervised -autotune-validation`, same files, same duration, same threads; prints
# each tool's trials, P@1 on the test set and the wall time of the whole command (search and
# final training).
#
#   bench/classify/autotune.sh [DATA_DIR] [EMBEDKIT] [FASTTEXT] [THREADS] [SECONDS]
#
# DATA_DIR as for run.sh (default ../shared/data/classification), converted by convert.sh.
# Validation sets: SST-2's dev split; for TREC, which has none, every 10th line of its training
# file (both tools train on the other nine tenths and test on TREC_10). SECONDS (default 60) is
# the autotune duration of both tools. ONLY (environment, a regex) runs only the matching sets.
# MODELSIZE (environment, fastText's spelling: 2M) gives both tools -autotune-modelsize: each
# writes a .ftz, whose size is printed too. SEED (environment) gives both tools that seed (-seed,
# --seed); unset, each keeps its own default. PARALLEL=1 (environment) runs the two tools at the
# same time on each set, so that both see the same machine load (each still gets THREADS
# threads). fastText runs with -verbose 3, which prints each trial's arguments, score and time
# and the best arguments; the script prints its best arguments and its trials' times.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-../shared/data/classification}
embedkit=${2:-build/tools/embedkit/embedkit}
fasttext=${3:-fasttext}
threads=${4:-2}
seconds=${5:-60}
modelsize=${MODELSIZE:-}
seed_ft=() seed_ek=()
if [ -n "${SEED:-}" ]; then
  seed_ft=(-seed "$SEED") seed_ek=(--seed "$SEED")
fi
size_args=() ext=safetensors ft_ext=bin
if [ -n "$modelsize" ]; then
  size_args=(-autotune-modelsize "$modelsize") ext=ftz ft_ext=ftz
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$here/convert.sh" "$data" "$work"
awk 'NR % 10 == 0' "$work/trec.train" > "$work/trec.dev"
awk 'NR % 10 != 0' "$work/trec.train" > "$work/trec.tune"
mv "$work/trec.tune" "$work/trec.train"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# fastText 0.9.2's autotune starts its timer thread before it sets the flag the thread checks
# (Autotune::startTimer): when the new thread runs first, it sees the flag unset, ends at once,
# and the search never stops (no progress line is ever printed). This runs fastText and, when no
# progress line came within 5 s, kills it and starts again (at most 20 tries), saying so.
# The wall time, counted from the try that ran, is written to output-prefix.wall.
fasttext_autotune() {  # train dev output-prefix
  local try pid t0
  for try in $(seq 20); do
    t0=$(now)
    "$fasttext" supervised -input "$1" -output "$3" -autotune-validation "$2" \
      -autotune-duration "$seconds" -thread "$threads" -verbose 3 "${seed_ft[@]}" \
      "${size_args[@]}" > "$3.out" 2> "$3.log" &
    pid=$!
    for _ in $(seq 50); do
      grep -q 'Progress:' "$3.log" && break
      sleep 0.1
    done
    if grep -q 'Progress:' "$3.log"; then
      wait "$pid"
      elapsed "$t0" "$(now)" > "$3.wall"
      return
    fi
    kill "$pid"
    wait "$pid" 2> /dev/null || true
    echo "  (fastText's autotune timer did not start, try $try: run again)" >&2
  done
  echo "fastText's autotune did not start its timer in 20 tries" >&2
  exit 1
}

[ -z "$modelsize" ] || echo "model size: $modelsize"
printf '%-6s %8s %10s %10s %10s %10s %10s %10s %10s %10s\n' data seconds "fastText" "embedkit" \
  "fastText" "embedkit" "fastText" "embedkit" "fastText" "embedkit"
printf '%-6s %8s %10s %10s %10s %10s %10s %10s %10s %10s\n' "" "budget" trials trials P@1 P@1 \
  wall wall bytes bytes
for set in sst2 trec; do
  [[ -n "${ONLY:-}" && ! "$set" =~ $ONLY ]] && continue
  train=$work/$set.train dev=$work/$set.dev test=$work/$set.test
  echo "$set start: $(uptime)"
  embedkit_autotune() {
    local t0
    t0=$(now)
    "$embedkit" classify train "$train" -o "$work/ek_$set.$ext" \
      --autotune-validation "$dev" --autotune-duration "$seconds" --threads "$threads" --json \
      "${seed_ek[@]}" "${size_args[@]}" > "$work/ek_$set.json" 2> "$work/ek_$set.log"
    elapsed "$t0" "$(now)" > "$work/ek_$set.wall"
  }
  if [ -n "${PARALLEL:-}" ]; then
    fasttext_autotune "$train" "$dev" "$work/ft_$set" &
    ft_pid=$!
    embedkit_autotune
    wait "$ft_pid"
  else
    fasttext_autotune "$train" "$dev" "$work/ft_$set"
    embedkit_autotune
  fi
  echo "$set end: $(uptime)"
  ft_wall=$(cat "$work/ft_$set.wall") ek_wall=$(cat "$work/ek_$set.wall")
  # fastText's progress line ends with the trial count: "Progress: ... Trials:   12 Best ...".
  ft_trials=$(tr '\r' '\n' < "$work/ft_$set.log" | awk '/Trials:/ { for (i = 1; i < NF; i++)
    if ($i == "Trials:") n = $(i + 1) } END { print n }')
  ft_p=$("$fasttext" test "$work/ft_$set.$ft_ext" "$test" 1 | awk '$1 == "P@1" { print $2 }')
  ek_trials=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["autotune"]["trials"])' \
    "$work/ek_$set.json")
  ek_p=$("$embedkit" classify test "$work/ek_$set.$ext" "$test" |
    awk -F'\t' '$1 == "P@1" { print $2 }')
  printf '%-6s %8s %10s %10s %10s %10s %10s %10s %10s %10s\n' "$set" "$seconds" "$ft_trials" \
    "$ek_trials" "$ft_p" "$ek_p" "$ft_wall" "$ek_wall" "$(stat -c %s "$work/ft_$set.$ft_ext")" \
    "$(stat -c %s "$work/ek_$set.$ext")"
  # fastText's final model (its arguments are on its log's last lines).
  [ -z "$modelsize" ] || tr '\r' '\n' < "$work/ft_$set.log" | grep -E 'cutoff|dsub|Best' | tail -4 |
    sed "s/^/  $set fastText /"
  # fastText's trials (-verbose 3: the arguments, then the score and the time) and best.
  awk -v set="$set" '
    /^Trial = / { n = $3; line = "" }
    /^(epoch|lr|dim|wordNgrams|minn|maxn|bucket|dsub|loss) = / { line = line " " $1 " " $3 }
    /^currentScore = / { score = $3 }
    /^train took = / { printf "    %s fastText trial %3d %8s%s %.1f s\n", set, n, score, line, $4 }
    /^Best selected args/ { best = 1; line = "" }
    END { if (best) print "  " set " fastText best:" line }' "$work/ft_$set.out"
  grep '^autotune:' "$work/ek_$set.log" | sed "s/^/  $set embedkit /"
  # embedkit's trials: score, then the options tried.
  python3 - "$work/ek_$set.json" <<'PY'
import json, sys
for h in json.load(open(sys.argv[1]))["autotune"]["history"]:
    score = "-" if h["score"] is None else f"{h['score']:.4f}"
    q = h.get("quantization")
    quant = "" if q is None else f" dsub {q['dsub']} cutoff {q['cutoff']} bytes {q['bytes']}"
    print(f"    trial {h['trial']:3d} {score:>7} {h['outcome']:<19} epochs {h['epochs']} "
          f"lr {h['lr']:.4g} dim {h['dim']} word-ngrams {h['word_ngrams']} "
          f"buckets {h['buckets']} minn {h['minn']} maxn {h['maxn']}{quant} {h['seconds']:.1f} s")
PY
done
