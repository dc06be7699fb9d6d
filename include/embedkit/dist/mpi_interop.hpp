// The bridge between embedkit's Communicator and a program's own MPI communicators. The only
// dist header that includes mpi.h (the others compile without MPI's include path).
#pragma once

#include <mpi.h>

#include "embedkit/dist/communicator.hpp"

namespace embedkit::dist {

// A Communicator over the ranks of `comm`: embedkit duplicates it (its messages never match
// the caller's) and sets MPI_ERRORS_RETURN on the duplicate; `comm` itself is left as it is.
// Collective over `comm`.
Communicator from_mpi_comm(MPI_Comm comm);

// embedkit's duplicate, for a program that wants to talk on the same group (never free it).
MPI_Comm native_handle(const Communicator& communicator);

}  // namespace embedkit::dist
