// The group of processes a sharded table is spread over: an MPI communicator, held behind a
// pimpl so that this header (and every dist header but mpi_interop.hpp) compiles without
// mpi.h; a program that has an MPI_Comm of its own wraps it with mpi_interop.hpp.
//
// embedkit talks on its own duplicate of the communicator (MPI_Comm_dup), so its messages
// never match the caller's, and sets MPI_ERRORS_RETURN on it: a failed MPI call becomes an
// MpiError naming the call, never an abort inside MPI.
//
//   int main(int argc, char** argv) {
//     embedkit::dist::MpiSession mpi(argc, argv);  // MPI_Init_thread ... MPI_Finalize
//     embedkit::dist::Communicator comm = embedkit::dist::Communicator::world();
//     ...
//   }
#pragma once

#include <memory>
#include <string>

#include "embedkit/core/error.hpp"

namespace embedkit::dist {

// An MPI call that returned an error (the message names the call and MPI's own reason), or a
// request MPI cannot carry (more than 2^31 - 1 elements to one rank in one exchange).
class MpiError : public Error {
 public:
  explicit MpiError(const std::string& what) : Error(what) {}
};

// Initialises MPI (MPI_Init_thread, MPI_THREAD_FUNNELED: only the thread that made the session
// calls MPI; embedkit's own thread pool never does) unless the program already did, and
// finalises it on destruction only if it initialised it. One per process, in main().
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  bool initialised_here_ = false;
};

class Communicator {
 public:
  // A duplicate of MPI_COMM_WORLD. MPI must be initialised (MpiSession, or the program's own
  // MPI_Init); MpiError otherwise.
  static Communicator world();

  int rank() const;
  int size() const;
  // Collective: returns when every rank has called it.
  void barrier() const;

  // The MPI side (src/dist/communicator_impl.hpp); copies share it, and the duplicate is freed
  // with the last copy.
  struct Impl;
  const Impl& impl() const { return *impl_; }
  explicit Communicator(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace embedkit::dist
