// The thread pool's claim protocol, replayed at the one interleaving that matters: a worker that
// read the state of a finished job, paused there while the next job is being submitted, then
// resumes. It must not claim anything of the next job from that stale state (before the fix
// it did: the worker read the new job's chunk count beside the old state, its compare-and-swap
// on the unchanged state succeeded, and it ran a chunk that the new job then ran once more).
//
// This binary compiles src/core/thread_pool.cpp itself with EMBEDKIT_THREAD_POOL_HOOKS, the
// pause points of src/core/thread_pool_hooks.hpp; the library never has them.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/thread_pool_hooks.hpp"
#include "embedkit/core/thread_pool.hpp"

namespace embedkit {
namespace {

// Where the worker that is made to pause stands; only the main thread and that worker move it.
enum Phase : int {
  kIdle,      // no worker chosen yet
  kArmed,     // a worker ran a chunk of job A: its next state load pauses
  kParked,    // it loaded job A's final state and waits
  kReleased,  // the submitter of job B let it go, before publishing job B
  kDecided,   // it decided what to claim from job A's state
};

std::atomic<int> g_phase{kIdle};
std::atomic<std::thread::id> g_parker{};
std::atomic<bool> g_stale_claim{false};
std::thread::id g_main_thread;

void move_to(Phase phase) {
  g_phase.store(phase);
  g_phase.notify_all();
}

void wait_for(Phase phase) {
  for (int seen = g_phase.load(); seen != phase; seen = g_phase.load()) g_phase.wait(seen);
}

bool on_parker() {
  return g_parker.load() == std::this_thread::get_id();
}

void pause_the_armed_worker() {
  if (!on_parker() || g_phase.load() != kArmed) return;
  move_to(kParked);
  wait_for(kReleased);
}

void record_the_decision(bool claimed) {
  if (!on_parker() || g_phase.load() != kReleased) return;
  g_stale_claim.store(claimed);
  move_to(kDecided);
}

void release_the_worker_before_publishing() {
  move_to(kReleased);
  wait_for(kDecided);
  if (g_stale_claim.load()) {
    // The pool is now corrupt (a chunk runs twice and the completion count overshoots, so the
    // call below may hang or return early): stop here with the finding.
    std::fprintf(stderr,
                 "FAILED: a worker holding the state of a finished job claimed a chunk of the "
                 "next job before it was published; that chunk runs twice\n");
    std::fflush(stderr);
    std::_Exit(1);
  }
}

class ThreadPoolRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_threads_ = get_num_threads();
    g_main_thread = std::this_thread::get_id();
    g_phase = kIdle;
    g_parker = std::thread::id{};
    g_stale_claim = false;
  }
  void TearDown() override {
    thread_pool_hooks::after_state_load = nullptr;
    thread_pool_hooks::after_claim_decision = nullptr;
    thread_pool_hooks::before_publish = nullptr;
    set_num_threads(saved_threads_);
  }

 private:
  int saved_threads_ = 1;
};

TEST_F(ThreadPoolRaceTest, AWorkerHoldingAFinishedJobsStateClaimsNothingOfTheNext) {
  set_num_threads(3);
  parallel_chunks(3, [](int, int) {});  // the pool and its two workers exist
  thread_pool_hooks::after_state_load = &pause_the_armed_worker;
  thread_pool_hooks::after_claim_decision = &record_the_decision;

  // Job A: 2 chunks that wait for each other, so they run on two threads at once and at least
  // one of them is a worker; that worker pauses at its next state load, which (both chunks being
  // claimed) reads job A's final state.
  std::atomic<int> arrived{0};
  parallel_chunks(2, [&](int, int) {
    ++arrived;
    while (arrived.load() < 2) std::this_thread::yield();
    if (std::this_thread::get_id() != g_main_thread) {
      std::thread::id none{};
      if (g_parker.compare_exchange_strong(none, std::this_thread::get_id())) move_to(kArmed);
    }
  });
  wait_for(kParked);

  // Job B: more chunks than job A. Its submitter lets the paused worker go once job B is
  // written but not yet published, and waits until the worker decided.
  thread_pool_hooks::before_publish = &release_the_worker_before_publishing;
  std::array<std::atomic<int>, 3> runs{};
  parallel_chunks(3, [&](int c, int chunks) {
    ASSERT_EQ(chunks, 3);
    ++runs[static_cast<std::size_t>(c)];
  });
  thread_pool_hooks::before_publish = nullptr;

  EXPECT_FALSE(g_stale_claim.load());
  EXPECT_EQ(g_phase.load(), kDecided);
  for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
}

}  // namespace
}  // namespace embedkit
