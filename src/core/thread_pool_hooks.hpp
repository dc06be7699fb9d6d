// Test-only pause points inside the thread pool's claim protocol (src/core/thread_pool.cpp).
//
// They exist only when thread_pool.cpp is compiled with EMBEDKIT_THREAD_POOL_HOOKS, which no
// library build does: tests/core compiles the pool once more with it, into a test binary of
// its own, to stop a worker at the exact instruction where an interleaving matters and replay a
// race deterministically instead of hoping a stress test hits a window of a few instructions.
#pragma once

#include <atomic>

namespace embedkit::thread_pool_hooks {

// Called by any pool thread (workers and the submitting caller) right after it loaded the job
// state it is about to claim a chunk from, before it looks at that state.
extern std::atomic<void (*)()> after_state_load;

// Called by the same thread once it decided on that state: claimed = it won a chunk (and will
// run it), false = it found nothing to claim.
extern std::atomic<void (*)(bool claimed)> after_claim_decision;

// Called by the submitter once it wrote everything a new job needs, just before the store that
// publishes the job to the workers.
extern std::atomic<void (*)()> before_publish;

}  // namespace embedkit::thread_pool_hooks
