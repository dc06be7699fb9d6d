#!/usr/bin/env bash
# Converts SST-2 and TREC to fastText's format ("__label__x words ..."), case kept:
#   convert.sh DATA_DIR OUT_DIR  ->  OUT_DIR/{sst2,trec}.{train,test}, OUT_DIR/sst2.dev
# SST-2 lines are "sentence<TAB>label"; TREC lines "COARSE:fine question" (the coarse class is
# the label).
set -euo pipefail
data=$1
out=$2
mkdir -p "$out"
sst() { awk -F'\t' 'NF >= 2 { label = $NF; $NF = ""; sub(/[ \t]+$/, ""); printf "__label__%s %s\n", label, $0 }' OFS=' ' "$1"; }
trec() { awk '{ split($1, parts, ":"); $1 = ""; sub(/^ +/, ""); printf "__label__%s %s\n", parts[1], $0 }' "$1"; }
sst "$data/sst2/sentiment-train" > "$out/sst2.train"
sst "$data/sst2/sentiment-test" > "$out/sst2.test"
sst "$data/sst2/sentiment-dev" > "$out/sst2.dev"
trec "$data/trec/train_5500.label" > "$out/trec.train"
trec "$data/trec/TREC_10.label" > "$out/trec.test"
