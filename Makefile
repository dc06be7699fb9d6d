# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
BENCH_BUILD ?= build-bench
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja
# REQUIRE_ORACLES=ON (CI's setting, .ci/run): a missing test oracle (LibTorch, PyTorch, fastText,
# gensim, the word2vec C tool) fails `make test` instead of skipping its tests.
REQUIRE_ORACLES ?= OFF
TEST_FLAGS := -DEMBEDKIT_BUILD_TESTS=ON -DEMBEDKIT_REQUIRE_ORACLES=$(REQUIRE_ORACLES)

.PHONY: all deps configure build demo test test-release test-asan test-tsan bench bench-dist bench-hot-rows bench-word2vec bench-python bench-quantized-models bench-quantize bench-ann format format-check install python-install clean

all: build

deps:
	@scripts/install-deps

configure: deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release $(TEST_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The demo needs only the library and the command, not the test binaries nor their oracles: the
# tour, then word2vec on the Brown corpus (scripts/demo). ANALOGIES=file and SIMILARITY=file add
# an evaluation of the trained vectors. (A later `make test` configures the tests back in.)
demo:
	@scripts/install-deps demo
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_BUILD_TESTS=OFF
	cmake --build $(BUILD) -j $(JOBS) --target embedkit_cli
	ANALOGIES="$(ANALOGIES)" SIMILARITY="$(SIMILARITY)" scripts/demo $(BUILD)

# Release build + tests, then the same suite under AddressSanitizer + UBSan, then the threaded
# suites under ThreadSanitizer.
test: test-release test-asan test-tsan

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The sanitized builds keep line tables only (-g1): their reports name file and line, and full
# debug information cost about a third of each translation unit's compile time. They compile at
# -O1 (docs/design.md, "Optimisation levels"): the sanitizers check every access and operation
# the source makes at any level, the Release build checks the optimised code's results, and the
# kernels compile 2.7-4.2x faster instrumented at -O1 than at -O2 with no slower tests. They leave
# out the CUDA backend: nvcc does not instrument device code, and its host code is the Release
# build's to check (its tests need a GPU).
SANITIZED_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DEMBEDKIT_CUDA=OFF
# The kernel tests repeat each case per instruction-set level and thread count. Under ASan +
# UBSan every level runs on one thread, and only the generic level on several: the per-level
# loops (kernels_<level>.cpp) start no threads and are handed one contiguous range each, whose
# accesses one thread checks as well as three, while the split into ranges is the same code at
# every level (src/kernels/cpu/*_cpu.cpp), checked here through the generic level and by TSan
# below. What a wrong range would write into a neighbour's range is not an ASan error at any
# thread count; the Release build's bitwise comparison at every level and thread count sees it.
# The cases left out took 184 s of the ASan stage's 1195 s of test time (summed over the tests,
# a local run of .ci/run on 3 Dec 2026).
ASAN_CTEST_EXCLUDE = /(avx2|avx512)_([2-9]|[1-9][0-9]+)threads_
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) $(SANITIZED_FLAGS) -DEMBEDKIT_SANITIZE=ON $(TEST_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -E '$(ASAN_CTEST_EXCLUDE)'

# ThreadSanitizer, in a build of its own with only the suites whose threads must be race-free:
# tests/core (the thread pool, tensors), kernels, nn, optim, io and vectors. Not the hogwild
# training of word2vec and the text classifier (tests/models, tests/examples): their threads
# update shared float tables without locks on purpose, as word2vec.c and fastText do
# (docs/design.md), a race TSan would rightly report; nor the
# LibTorch tests (LibTorch and its OpenMP runtime are not instrumented, so TSan reports races
# that are not). tests/CMakeLists.txt picks the suites; no suppression file hides anything.
# TSan (GCC 12) puts its shadow memory at fixed addresses, which a kernel randomising mmap with
# more than 28 bits (vm.mmap_rnd_bits) can collide with ("FATAL: ThreadSanitizer: unexpected
# memory mapping"): there the build (which runs the test binaries to list their tests) and the
# tests run without address randomisation (setarch -R), when the machine allows it.
TSAN_RUN = $(shell test "$$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)" -gt 28 && \
  setarch $$(uname -m) -R true 2>/dev/null && echo setarch $$(uname -m) -R)
# The kernel tests repeat each case per instruction-set level and thread count; under TSan
# (5-15x slower) only the 3-thread cases (uneven splits; hardware_concurrency when it is more)
# of the generic level run: threads and partitioning are the same code for every level
# (src/kernels/cpu/*_cpu.cpp; the per-level files start no threads), whose loops the two builds
# above check bit for bit. It keeps this stage to minutes of CI.
TSAN_CTEST_EXCLUDE = /(avx2|avx512)_|/generic_[12]threads_
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) $(CMAKE_GEN) $(SANITIZED_FLAGS) -DEMBEDKIT_SANITIZE_THREAD=ON \
	  -DEMBEDKIT_TORCH_TESTS=OFF -DEMBEDKIT_BUILD_TOOLS=OFF -DEMBEDKIT_BUILD_EXAMPLES=OFF
	$(TSAN_RUN) cmake --build $(TSAN_BUILD) -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1 $(TSAN_RUN) ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) \
	  -E '$(TSAN_CTEST_EXCLUDE)'

# The benchmarks against LibTorch (not part of `make test`): builds bench/ and runs its default
# subset (a few minutes); raw results and a Markdown summary go to $(BENCH_BUILD)/results.
# BENCH_ARGS passes Google Benchmark flags, e.g. BENCH_ARGS=--benchmark_filter=bag_sum.
bench: deps
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_BUILD_BENCH=ON \
	  -DEMBEDKIT_BUILD_TESTS=OFF -DEMBEDKIT_BUILD_TOOLS=ON
	cmake --build $(BENCH_BUILD) --target embedkit_bench -j $(JOBS)
	mkdir -p $(BENCH_BUILD)/results
	$(BENCH_BUILD)/bench/embedkit_bench --benchmark_out=$(BENCH_BUILD)/results/bench.json \
	  --benchmark_out_format=json $(BENCH_ARGS) | tee $(BENCH_BUILD)/results/bench.txt
	python3 bench/summarize.py $(BENCH_BUILD)/results/bench.json > $(BENCH_BUILD)/results/summary.md
	@echo "bench: results in $(BENCH_BUILD)/results (summary.md)"

# word2vec training against word2vec.c, fastText and gensim (both its input modes) on the Brown
# corpus (npm), 1 and 2 threads, one run per seed in W2V_SEEDS (8 by default: analogy accuracy
# moves by about 0.2 points from seed to seed, and fewer runs cannot separate the tools; about
# 30 minutes on a quiet 2-core machine). EVAL_DIR holds questions-words.txt and wordsim353.tsv;
# W2V_ARGS passes more options (see run.py --help).
EVAL_DIR ?= ../shared/data/eval
W2V_SEEDS ?= 1,2,3,4,5,6,7,8
# The tables sharded over MPI (bench/dist): a sharded lookup and fused step against the same work
# on a local table, at P = 1..4 ranks of this machine (BENCHMARKS.md). DIST_BENCH_ARGS: see
# bench/dist/sharded_bench.cpp. mpirun's flags: see tests/dist/CMakeLists.txt.
DIST_BENCH_ARGS ?=
bench-dist: deps
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_BUILD_BENCH=ON \
	  -DEMBEDKIT_BUILD_TESTS=OFF -DEMBEDKIT_MPI=ON
	cmake --build $(BENCH_BUILD) --target embedkit_dist_bench -j $(JOBS)
	for p in 1 2 3 4; do \
	  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1 \
	    mpirun --oversubscribe -np $$p $(BENCH_BUILD)/bench/dist/embedkit_dist_bench $(DIST_BENCH_ARGS) \
	    || exit 1; \
	done

# Hot rows, counted (bench/dist/hot_rows.cpp; docs/scale.md, "Hot rows"): per-owner loads of
# Zipf and uniform ids under each sharding, in one process (the counts need no mpirun).
bench-hot-rows: deps
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_BUILD_BENCH=ON \
	  -DEMBEDKIT_BUILD_TESTS=OFF -DEMBEDKIT_MPI=ON
	cmake --build $(BENCH_BUILD) --target embedkit_dist_hot_rows -j $(JOBS)
	$(BENCH_BUILD)/bench/dist/embedkit_dist_hot_rows

bench-word2vec: deps
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_BUILD_BENCH=ON \
	  -DEMBEDKIT_BUILD_TESTS=OFF -DEMBEDKIT_BUILD_TOOLS=ON
	cmake --build $(BENCH_BUILD) --target embedkit_cli -j $(JOBS)
	python3 bench/word2vec/run.py --embedkit $(BENCH_BUILD)/tools/embedkit/embedkit \
	  --eval-dir $(EVAL_DIR) --work $(BENCH_BUILD)/word2vec --seeds $(W2V_SEEDS) \
	  --json $(BENCH_BUILD)/word2vec/runs.json $(W2V_ARGS)

# Approximate neighbours (HNSW index) against the exact search on 1M x 100 generated vectors
# (bench/ann/run.sh; BENCHMARKS.md, "Approximate nearest neighbours"). ANN_ARGS: run.sh's sizes.
bench-ann: deps
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_BUILD_TESTS=OFF
	cmake --build $(BENCH_BUILD) --target embedkit -j $(JOBS)
	bench/ann/run.sh $(BENCH_BUILD) $(BENCH_BUILD)/ann $(ANN_ARGS)

# The text classifier (SST-2, TREC) and the recommender (MovieLens) with their embedding tables
# row-wise quantized to int8, int4 and int2 against float32 (bench/quantized_models): P@1, RMSE,
# ranking metrics, the tables' error and size. DATA holds classification/ and movielens-small/.
DATA ?= ../shared/data
bench-quantized-models: deps
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_BUILD_BENCH=ON \
	  -DEMBEDKIT_BUILD_TESTS=OFF -DEMBEDKIT_BUILD_TOOLS=ON
	cmake --build $(BENCH_BUILD) --target quantized_models -j $(JOBS)
	bench/classify/convert.sh $(DATA)/classification $(BENCH_BUILD)/classify-data
	$(BENCH_BUILD)/bench/quantized_models \
	  --sst2 $(BENCH_BUILD)/classify-data/sst2.train $(BENCH_BUILD)/classify-data/sst2.test \
	  --trec $(BENCH_BUILD)/classify-data/trec.train $(BENCH_BUILD)/classify-data/trec.test \
	  --ratings $(DATA)/movielens-small/ratings.csv

# fastText's quantize against `embedkit quantize` on SST-2 with bigrams (bench/quantized_models/
# ftz.sh): sizes, P@1 and quantize times, each tool on its own model and embedkit on fastText's
# .bin too. QUANTIZE_ARGS: the quantize options in fastText's spelling (default -qnorm -cutoff
# 100000). Needs Debian's fasttext.
QUANTIZE_ARGS ?= -qnorm -cutoff 100000
bench-quantize: deps
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_BUILD_BENCH=ON \
	  -DEMBEDKIT_BUILD_TESTS=OFF -DEMBEDKIT_BUILD_TOOLS=ON
	cmake --build $(BENCH_BUILD) --target embedkit_cli -j $(JOBS)
	bench/quantized_models/ftz.sh $(DATA)/classification $(BENCH_BUILD)/tools/embedkit/embedkit \
	  fasttext 2 $(QUANTIZE_ARGS)

# Training inside PyTorch from Python (bench/python): torch.nn.EmbeddingBag(sparse=True) +
# torch.optim against embedkit.torch's fused modules on a DLRM-style and a fastText-style model,
# then the per-call overhead of a tiny lookup (a few minutes, up to 6 GiB of memory;
# PY_BENCH_ARGS=--quick: under a minute). JSON and Markdown go to $(BENCH_BUILD)/results.
# torch's dense layers use Debian's OpenBLAS (libopenblas0-openmp, fetched with `apt-get download`
# and unpacked into $(BENCH_BUILD)/openblas, nothing installed): Debian's default libblas.so.3
# is the reference BLAS, ~18x slower on the MLP, which would hide the embeddings' time.
# BLAS=system keeps the system's. OMP_WAIT_POLICY=passive: with OpenMP's default spin-waiting,
# two threads on two shared cores made one MLP step 6x slower than one thread (65 vs 11 ms).
PYTHON ?= /usr/bin/python3
BLAS ?= openblas
PY_BENCH_THREADS ?= 1,2
PY_BENCH_ARGS ?=
OPENBLAS_DIR = $(BENCH_BUILD)/openblas/usr/lib/x86_64-linux-gnu/openblas-openmp
PY_BENCH_ENV = PYTHONPATH=$(abspath $(BENCH_BUILD))/python OMP_WAIT_POLICY=passive \
  $(if $(filter openblas,$(BLAS)),LD_LIBRARY_PATH=$(abspath $(OPENBLAS_DIR)))
bench-python:
	@scripts/install-deps python
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_PYTHON=ON \
	  -DPython3_EXECUTABLE=$(PYTHON) -DEMBEDKIT_BUILD_TESTS=OFF
	cmake --build $(BENCH_BUILD) --target embedkit_python -j $(JOBS)
	if [ "$(BLAS)" = openblas ] && [ ! -e $(OPENBLAS_DIR)/libblas.so.3 ]; then \
	  rm -rf $(BENCH_BUILD)/openblas && mkdir -p $(BENCH_BUILD)/openblas && \
	  cd $(BENCH_BUILD)/openblas && apt-get download libopenblas0-openmp && \
	  dpkg-deb -x libopenblas0-openmp_*.deb .; fi
	mkdir -p $(BENCH_BUILD)/results
	cd bench/python && $(PY_BENCH_ENV) $(PYTHON) train_step.py --threads $(PY_BENCH_THREADS) \
	  --json $(abspath $(BENCH_BUILD))/results/train_step.json \
	  --markdown $(abspath $(BENCH_BUILD))/results/train_step.md $(PY_BENCH_ARGS)
	cd bench/python && $(PY_BENCH_ENV) $(PYTHON) call_overhead.py \
	  --json $(abspath $(BENCH_BUILD))/results/call_overhead.json \
	  --markdown $(abspath $(BENCH_BUILD))/results/call_overhead.md \
	  $(filter --quick,$(PY_BENCH_ARGS))
	@echo "bench-python: results in $(BENCH_BUILD)/results (train_step.md, call_overhead.md)"

# Every C++ and CUDA source of the project (.clang-format): the library, its tests, the command,
# the benchmarks, the examples and the Python bindings.
FORMAT_SOURCES = find include src tests tools bench examples python -name '*.hpp' -o -name '*.cpp' \
  -o -name '*.cu' -o -name '*.cuh'

format: deps
	$(FORMAT_SOURCES) | xargs clang-format -i

format-check: deps
	$(FORMAT_SOURCES) | xargs clang-format --dry-run --Werror

install: build
	cmake --install $(BUILD)

# The Python package `embedkit` for the system's Python (docs/python.md), from Debian packages
# only: builds the module in $(BUILD) and installs it into that Python's directory for locally
# installed packages (Debian: /usr/local/lib/python3.X/dist-packages). PYTHON_INSTALL_DIR=dir
# installs elsewhere (then add dir to PYTHONPATH).
PYTHON_INSTALL_DIR ?=
python-install:
	@scripts/install-deps python
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_PYTHON=ON \
	  $(if $(PYTHON_INSTALL_DIR),-DEMBEDKIT_PYTHON_INSTALL_DIR=$(abspath $(PYTHON_INSTALL_DIR)))
	cmake --build $(BUILD) -j $(JOBS) --target embedkit_python
	cmake --install $(BUILD) --component python

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(BENCH_BUILD)
