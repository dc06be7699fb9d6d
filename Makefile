# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
BUILD      ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD ?= build-bench
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja
# REQUIRE_ORACLES=ON (CI's setting, .ci/run): a missing test oracle (LibTorch, PyTorch, fastText,
# gensim, the word2vec C tool) fails `make test` instead of skipping its tests.
REQUIRE_ORACLES ?= OFF
TEST_FLAGS := -DEMBEDKIT_BUILD_TESTS=ON -DEMBEDKIT_REQUIRE_ORACLES=$(REQUIRE_ORACLES)

.PHONY: all deps configure build demo test test-release test-asan bench bench-word2vec format format-check install clean

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

# Release build + tests, then the same suite under AddressSanitizer + UBSan.
test: test-release test-asan

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBEDKIT_SANITIZE=ON \
	  $(TEST_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

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

# word2vec training against word2vec.c, fastText and gensim on the Brown corpus (npm), 1 and 2
# threads, 3 seeds each (about 10 minutes on a quiet 2-core machine). EVAL_DIR holds
# questions-words.txt and wordsim353.tsv; W2V_ARGS passes more options (see run.py --help).
EVAL_DIR ?= ../shared/data/eval
bench-word2vec: deps
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DEMBEDKIT_BUILD_BENCH=ON \
	  -DEMBEDKIT_BUILD_TESTS=OFF -DEMBEDKIT_BUILD_TOOLS=ON
	cmake --build $(BENCH_BUILD) --target embedkit_cli -j $(JOBS)
	python3 bench/word2vec/run.py --embedkit $(BENCH_BUILD)/tools/embedkit/embedkit \
	  --eval-dir $(EVAL_DIR) --work $(BENCH_BUILD)/word2vec --json $(BENCH_BUILD)/word2vec/runs.json $(W2V_ARGS)

format:
	find include src tests tools bench -name '*.hpp' -o -name '*.cpp' | xargs clang-format -i

format-check:
	find include src tests tools bench -name '*.hpp' -o -name '*.cpp' | xargs clang-format --dry-run --Werror

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD)
