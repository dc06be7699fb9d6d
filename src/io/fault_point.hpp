// Named points inside multi-step writes (a .npy and its .vocab, a group of files renamed one
// after the other) where a test can stop the process, as a crash or a SIGKILL would, to prove
// that every intermediate state on disk is safe. Nothing in embedkit sets a hook: passing a
// point costs one atomic load and a branch.
#pragma once

#include <string_view>

namespace embedkit::io::detail {

using FaultHook = void (*)(std::string_view point);

// Installs `hook` (nullptr removes it); it is called with the name of every point passed.
void set_fault_hook(FaultHook hook);

// Calls the hook, if one is set, with `point`.
void fault_point(std::string_view point);

}  // namespace embedkit::io::detail
