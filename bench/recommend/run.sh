#!/bin/sh
# embedkit recommend train against a PyTorch reference of the same biased matrix factorization,
# on the same 80/20 random split (seed 42) of MovieLens latest-small, side by side.
#
#   bench/recommend/run.sh [EMBEDKIT] [RATINGS] [PYTHON]
#     EMBEDKIT  the embedkit program (default: build/tools/embedkit/embedkit)
#     RATINGS   ratings.csv (default: ../shared/data/movielens-small/ratings.csv)
#     PYTHON    a Python with torch (default: /usr/bin/python3)
#
# Prints one line per run: RMSE, MAE and training seconds (timed inside each program, reading
# and evaluation excluded).
set -eu
EMBEDKIT=${1:-build/tools/embedkit/embedkit}
RATINGS=${2:-../shared/data/movielens-small/ratings.csv}
PYTHON=${3:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

summary() {
  "$PYTHON" -c 'import json,sys; j=json.load(sys.stdin); t=j.get("test",j); print("%-44s RMSE %.4f  MAE %.4f  %.2f s" % (sys.argv[1], t["rmse"], t["mae"], j["train_seconds"]))' "$1"
}

# The default configuration (row-wise Adagrad, dim 64, 10 epochs); also writes the split.
"$EMBEDKIT" recommend train "$RATINGS" --split-seed 42 --write-split "$WORK" --json |
  summary "embedkit default (rowwise-adagrad, 10 ep)"
# The PyTorch reference's configuration, with SparseAdam.
"$EMBEDKIT" recommend train "$RATINGS" --split-seed 42 --optimizer sparse-adam --lr 0.005 \
  --epochs 40 --init-std 0.1 --json | summary "embedkit sparse-adam lr 0.005, 40 ep"
# PyTorch: dense Adam, lr 0.005, L2 0.1, batch 1024, 40 epochs, 2 threads.
"$PYTHON" "$HERE/torch_mf.py" "$WORK" --threads 2 | summary "torch Adam lr 0.005, 40 ep, 2 threads"
# PyTorch with embedkit's default configuration's initialisation (best effort: dense Adam).
"$PYTHON" "$HERE/torch_mf.py" "$WORK" --threads 2 --epochs 10 --lr 0.005 --init-std 0.01 |
  summary "torch Adam lr 0.005, init 0.01, 10 ep"
