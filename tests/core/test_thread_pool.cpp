// The thread pool: thread count, partitioning, nesting, exceptions, and a stress of the claim
// protocol (meant to run under ThreadSanitizer too: make test-tsan).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"

namespace embedkit {
namespace {

class ThreadPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = get_num_threads(); }
  void TearDown() override { set_num_threads(saved_); }

 private:
  int saved_ = 1;
};

TEST_F(ThreadPoolTest, DefaultIsHardwareConcurrency) {
  const unsigned hw = std::thread::hardware_concurrency();
  EXPECT_EQ(get_num_threads(), hw == 0 ? 1 : static_cast<int>(hw));
}

TEST_F(ThreadPoolTest, SetAndGet) {
  set_num_threads(3);
  EXPECT_EQ(get_num_threads(), 3);
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
  EXPECT_THROW(set_num_threads(0), ValueError);
  EXPECT_THROW(set_num_threads(-2), ValueError);
  EXPECT_EQ(get_num_threads(), 1);
}

TEST_F(ThreadPoolTest, ParallelForCoversEachIndexOnceInContiguousChunks) {
  for (int threads : {1, 2, 3, 5}) {
    set_num_threads(threads);
    for (std::int64_t n : {0, 1, 2, 7, 1000, 100003}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      std::atomic<int> calls{0};
      parallel_for(n, 1, [&](std::int64_t b, std::int64_t e) {
        ASSERT_LT(b, e);
        ++calls;
        for (std::int64_t i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
      EXPECT_LE(calls.load(), threads);
      if (n >= threads) {
        EXPECT_EQ(calls.load(), threads);
      }
    }
  }
}

TEST_F(ThreadPoolTest, MinChunkLimitsTheSplit) {
  set_num_threads(4);
  std::atomic<int> calls{0};
  parallel_for(100, 60, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_EQ(calls.load(), 1);
  calls = 0;
  parallel_for(100, 30, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_EQ(calls.load(), 3);
}

// The chunk a thread gets depends only on n and the thread count.
TEST_F(ThreadPoolTest, ChunksAreStatic) {
  set_num_threads(3);
  for (int rep = 0; rep < 20; ++rep) {
    std::vector<std::int64_t> begins(3, -1);
    parallel_chunks(3, [&](int c, int chunks) {
      ASSERT_EQ(chunks, 3);
      begins[static_cast<std::size_t>(c)] = chunk_begin(10, chunks, c);
    });
    EXPECT_EQ(begins, (std::vector<std::int64_t>{0, 4, 7}));
  }
}

TEST_F(ThreadPoolTest, NestedCallsRunInline) {
  set_num_threads(3);
  std::atomic<int> inner{0};
  parallel_chunks(3, [&](int, int) {
    parallel_for(10, 1, [&](std::int64_t b, std::int64_t e) { inner += static_cast<int>(e - b); });
  });
  EXPECT_EQ(inner.load(), 30);
}

TEST_F(ThreadPoolTest, ExceptionsReachTheCaller) {
  set_num_threads(3);
  EXPECT_THROW(parallel_chunks(3,
                               [&](int c, int) {
                                 if (c == 2) throw std::runtime_error("chunk 2");
                               }),
               std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int> calls{0};
  parallel_chunks(3, [&](int, int) { ++calls; });
  EXPECT_EQ(calls.load(), 3);
}

// Two user threads sharing the pool: one of them runs inline, both finish correctly.
TEST_F(ThreadPoolTest, ConcurrentCallers) {
  set_num_threads(2);
  std::atomic<std::int64_t> total{0};
  auto work = [&] {
    for (int rep = 0; rep < 200; ++rep) {
      parallel_for(1000, 1, [&](std::int64_t b, std::int64_t e) { total += e - b; });
    }
  };
  std::thread a(work);
  std::thread b(work);
  a.join();
  b.join();
  EXPECT_EQ(total.load(), 2 * 200 * 1000);
}

// parallel_tasks: more tasks than threads, each run exactly once and told the task count;
// with one thread a single call (0, 1) on the caller; the count clamped to [1, 65535]; and
// nested inside a task it runs inline, as parallel_chunks does.
TEST_F(ThreadPoolTest, ParallelTasksRunsEveryTaskOnceBeyondTheThreadCount) {
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    for (int tasks : {1, 2, 8, 37, 1000}) {
      for (int call = 0; call < 50; ++call) {
        std::vector<std::atomic<int>> runs(static_cast<std::size_t>(tasks));
        std::atomic<int> wrong_count{0};
        parallel_tasks(tasks, [&](int c, int n) {
          if (n != tasks) ++wrong_count;
          ++runs[static_cast<std::size_t>(c)];
        });
        ASSERT_EQ(wrong_count.load(), 0) << threads << " threads, " << tasks << " tasks";
        for (int c = 0; c < tasks; ++c) {
          ASSERT_EQ(runs[static_cast<std::size_t>(c)].load(), 1)
              << threads << " threads, " << tasks << " tasks, task " << c;
        }
      }
    }
    std::atomic<int> max_n{0};
    std::atomic<int> calls{0};
    parallel_tasks(100000, [&](int, int n) {
      ++calls;
      int seen = max_n.load();
      while (n > seen && !max_n.compare_exchange_weak(seen, n)) {
      }
    });
    EXPECT_EQ(max_n.load(), 65535);
    EXPECT_EQ(calls.load(), 65535);
    std::atomic<int> inner{0};
    parallel_tasks(4, [&](int, int) {
      const std::thread::id outer_thread = std::this_thread::get_id();
      parallel_tasks(5, [&](int, int n) {
        EXPECT_EQ(n, 5);
        EXPECT_EQ(std::this_thread::get_id(), outer_thread);  // inline on the task's thread
        ++inner;
      });
    });
    EXPECT_EQ(inner.load(), 20);
  }
  set_num_threads(1);
  std::vector<std::pair<int, int>> seen;
  parallel_tasks(16, [&](int c, int n) { seen.emplace_back(c, n); });
  EXPECT_EQ(seen, (std::vector<std::pair<int, int>>{{0, 1}}));
  parallel_tasks(0, [&](int c, int n) { seen.emplace_back(c, n); });  // clamped up to one task
  EXPECT_EQ(seen.size(), 2u);
}

// Back-to-back calls whose chunk count changes every call (1, 2, ..., threads, 1, ...), with
// 2 to 8 threads (more threads than cores), so that workers still busy with one job meet the
// next: each chunk of each call must run exactly once, see the caller's writes made before the
// call, and finish before the call returns; an exception thrown by one chunk must reach the
// caller after the other chunks ran. The per-chunk records are plain ints, not atomics: under
// ThreadSanitizer a chunk that ran outside the happens-before order the pool promises (run
// twice, run after the call returned, or run without seeing the call's setup) is reported.
TEST_F(ThreadPoolTest, StressEveryChunkRunsOncePerCallAcrossChunkAndThreadCounts) {
  constexpr int kCallsPerThreadCount = 10000;
  constexpr int kThrowEvery = 7;  // every 7th call one chunk throws
  for (int threads = 2; threads <= 8; ++threads) {
    set_num_threads(threads);
    std::vector<std::int64_t> input(static_cast<std::size_t>(threads));
    std::vector<std::int64_t> output(static_cast<std::size_t>(threads));
    std::vector<int> runs(static_cast<std::size_t>(threads));
    for (int call = 0; call < kCallsPerThreadCount; ++call) {
      const int chunks = 1 + call % threads;
      const bool throws = call % kThrowEvery == 0;
      const int thrower = call % chunks;
      for (int c = 0; c < threads; ++c) {
        input[static_cast<std::size_t>(c)] = std::int64_t{call} * 1000 + c;
        output[static_cast<std::size_t>(c)] = -1;
        runs[static_cast<std::size_t>(c)] = 0;
      }
      std::atomic<int> calls{0};
      std::atomic<int> wrong_count{0};
      auto chunk = [&](int c, int n) {
        ++calls;
        if (n != chunks) ++wrong_count;
        ++runs[static_cast<std::size_t>(c)];
        output[static_cast<std::size_t>(c)] = input[static_cast<std::size_t>(c)];
        if (throws && c == thrower) throw std::runtime_error("chunk " + std::to_string(c));
      };
      if (throws) {
        try {
          parallel_chunks(chunks, chunk);
          ADD_FAILURE() << "call " << call << ": the exception of chunk " << thrower << " was lost";
        } catch (const std::runtime_error& e) {
          ASSERT_EQ(std::string(e.what()), "chunk " + std::to_string(thrower)) << "call " << call;
        }
      } else {
        parallel_chunks(chunks, chunk);
      }
      ASSERT_EQ(calls.load(), chunks) << threads << " threads, call " << call;
      ASSERT_EQ(wrong_count.load(), 0) << threads << " threads, call " << call;
      for (int c = 0; c < threads; ++c) {
        const auto i = static_cast<std::size_t>(c);
        ASSERT_EQ(runs[i], c < chunks ? 1 : 0)
            << threads << " threads, call " << call << ", chunk " << c;
        ASSERT_EQ(output[i], c < chunks ? input[i] : -1)
            << threads << " threads, call " << call << ", chunk " << c;
      }
    }
  }
}

// Two threads submit jobs of alternating chunk counts at once: the pool runs one thread's job
// while the other runs its own inline, and ownership of the pool passes between them call after
// call. Same checks as above, per submitter.
TEST_F(ThreadPoolTest, StressTwoSubmittersWithAlternatingChunkCounts) {
  constexpr int kThreads = 4;
  constexpr int kCalls = 5000;
  set_num_threads(kThreads);
  auto submit = [](int seed, int* failures) {
    std::vector<int> runs(kThreads);
    for (int call = 0; call < kCalls; ++call) {
      const int chunks = 1 + (call + seed) % kThreads;
      for (int& r : runs) r = 0;
      parallel_chunks(chunks, [&](int c, int) { ++runs[static_cast<std::size_t>(c)]; });
      for (int c = 0; c < kThreads; ++c) {
        if (runs[static_cast<std::size_t>(c)] != (c < chunks ? 1 : 0)) ++*failures;
      }
    }
  };
  int failures_a = 0;
  int failures_b = 0;
  std::thread a(submit, 0, &failures_a);
  std::thread b(submit, 1, &failures_b);
  a.join();
  b.join();
  EXPECT_EQ(failures_a, 0);
  EXPECT_EQ(failures_b, 0);
}

}  // namespace
}  // namespace embedkit
