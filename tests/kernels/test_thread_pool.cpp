// The thread pool: thread count, partitioning, nesting, exceptions.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
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

}  // namespace
}  // namespace embedkit
