# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: all deps configure build demo test test-release test-asan bench format format-check install clean

all: build

deps:
	@scripts/install-deps

configure: deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The demo needs only the library and the command, not the test binaries.
demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target embedkit_cli
	$(BUILD)/tools/embedkit/embedkit tour

# Release build + tests, then the same suite under AddressSanitizer + UBSan.
test: test-release test-asan

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBEDKIT_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

format:
	find include src tests tools -name '*.hpp' -o -name '*.cpp' | xargs clang-format -i

format-check:
	find include src tests tools -name '*.hpp' -o -name '*.cpp' | xargs clang-format --dry-run --Werror

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
