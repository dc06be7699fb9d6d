// What a Communicator holds, and the check every MPI call goes through.
#pragma once

#include <mpi.h>

#include <string>

#include "embedkit/dist/communicator.hpp"

namespace embedkit::dist {

struct Communicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  ~Impl();
};

namespace detail {

// Throws MpiError "<call>: <MPI's error string>" unless rc is MPI_SUCCESS.
void check_mpi(int rc, const char* call);

inline MPI_Comm native(const Communicator& communicator) {
  return communicator.impl().comm;
}

}  // namespace detail
}  // namespace embedkit::dist
