#include "embedkit/dist/communicator.hpp"

#include <mpi.h>

#include <string>

#include "dist/communicator_impl.hpp"
#include "embedkit/dist/mpi_interop.hpp"

namespace embedkit::dist {

namespace detail {

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) length = 0;
  throw MpiError(std::string(call) + " failed: " +
                 (length > 0 ? std::string(text, static_cast<std::size_t>(length))
                             : "MPI error " + std::to_string(rc)));
}

}  // namespace detail

Communicator::Impl::~Impl() {
  int finalized = 0;
  // After MPI_Finalize a communicator must not be freed (nor can it be used any more).
  if (comm != MPI_COMM_NULL && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized) {
    MPI_Comm_free(&comm);
  }
}

MpiSession::MpiSession(int& argc, char**& argv) {
  int initialized = 0;
  detail::check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
  if (initialized) return;
  int provided = 0;
  detail::check_mpi(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided),
                    "MPI_Init_thread");
  initialised_here_ = true;
}

MpiSession::~MpiSession() {
  if (initialised_here_) MPI_Finalize();
}

Communicator::Communicator(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Communicator from_mpi_comm(MPI_Comm comm) {
  int initialized = 0;
  detail::check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    throw MpiError("embedkit::dist: MPI is not initialised (make an MpiSession in main first)");
  }
  auto impl = std::make_shared<Communicator::Impl>();
  detail::check_mpi(MPI_Comm_dup(comm, &impl->comm), "MPI_Comm_dup");
  detail::check_mpi(MPI_Comm_set_errhandler(impl->comm, MPI_ERRORS_RETURN),
                    "MPI_Comm_set_errhandler");
  detail::check_mpi(MPI_Comm_rank(impl->comm, &impl->rank), "MPI_Comm_rank");
  detail::check_mpi(MPI_Comm_size(impl->comm, &impl->size), "MPI_Comm_size");
  return Communicator(std::move(impl));
}

MPI_Comm native_handle(const Communicator& communicator) {
  return detail::native(communicator);
}

Communicator Communicator::world() {
  return from_mpi_comm(MPI_COMM_WORLD);
}

int Communicator::rank() const {
  return impl_->rank;
}
int Communicator::size() const {
  return impl_->size;
}

void Communicator::barrier() const {
  detail::check_mpi(MPI_Barrier(impl_->comm), "MPI_Barrier");
}

}  // namespace embedkit::dist
