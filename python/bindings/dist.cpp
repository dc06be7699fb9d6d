// Training across MPI processes (python/embedkit/_mpi.py: the comm= argument of Word2Vec,
// FastText and Recommender.fit). Built with the dist layer when the C++ build has MPI
// (EMBEDKIT_PYTHON_WITH_MPI); without it the module still builds and imports, has_mpi is False,
// and these functions raise RuntimeError.
//
// The communicator comes from mpi4py as its Fortran handle (comm.py2f(), back to an MPI_Comm by
// MPI_Comm_f2c): the module needs no mpi4py headers to build (docs/design.md). A handle is only
// meaningful to the MPI library that made it, so mpi4py's MPI library must be this module's:
// their MPI_Get_library_version strings are compared first.
#include <string>
#include <utility>

#include "bindings.hpp"
#include "embedkit/core/error.hpp"

#ifdef EMBEDKIT_PYTHON_WITH_MPI
#include <mpi.h>

#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/mpi_interop.hpp"
#include "embedkit/dist/recommender_training.hpp"
#include "embedkit/dist/word2vec_training.hpp"
#endif

namespace embedkit::python {

namespace {

#ifndef EMBEDKIT_PYTHON_WITH_MPI
[[noreturn]] void no_mpi() {
  throw Error("this embedkit was built without MPI: comm= needs a build with -DEMBEDKIT_MPI=ON");
}
#else
// With the GIL held: embedkit's communicator over the ranks of the mpi4py communicator `comm`
// (checked by _mpi.communicator). Collective over comm (MPI_Comm_dup).
dist::Communicator communicator(const py::object& comm) {
  int initialised = 0;
  int finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (initialised == 0 || finalised != 0) {
    throw Error(
        "comm: MPI is not initialised, or already finalised (mpi4py initialises it when "
        "mpi4py.MPI is imported)");
  }
  char ours[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(ours, &length);
  const auto theirs =
      py::module_::import("mpi4py.MPI").attr("Get_library_version")().cast<std::string>();
  if (theirs != std::string(ours, static_cast<std::size_t>(length))) {
    throw Error("comm: mpi4py runs on another MPI library than embedkit (mpi4py: '" + theirs +
                "', embedkit: '" + std::string(ours, static_cast<std::size_t>(length)) +
                "'); build embedkit with the MPI mpi4py uses");
  }
  const auto handle = comm.attr("py2f")().cast<MPI_Fint>();
  py::gil_scoped_release release;  // MPI_Comm_dup waits for the other ranks
  return dist::from_mpi_comm(MPI_Comm_f2c(handle));
}
#endif

}  // namespace

bool built_with_mpi() {
#ifdef EMBEDKIT_PYTHON_WITH_MPI
  return true;
#else
  return false;
#endif
}

models::Word2VecResult train_word2vec_across(
    const py::object& comm, const std::filesystem::path& corpus,
    const models::Word2VecOptions& options, std::int64_t syncs_per_epoch,
    std::int64_t column_batch_words,
    const std::function<void(const models::Word2VecProgress&)>& on_progress) {
#ifdef EMBEDKIT_PYTHON_WITH_MPI
  const dist::Communicator c = communicator(comm);
  py::gil_scoped_release release;
  if (column_batch_words > 0) {
    return dist::train_word2vec_by_columns(c, corpus, options, column_batch_words, on_progress);
  }
  return dist::train_word2vec(c, corpus, options, syncs_per_epoch, on_progress);
#else
  (void)comm, (void)corpus, (void)options, (void)syncs_per_epoch, (void)column_batch_words,
      (void)on_progress;
  no_mpi();
#endif
}

models::Recommender train_recommender_across(
    const py::object& comm, const std::vector<models::Rating>& ratings,
    const models::MfOptions& options,
    const std::function<void(const models::MfEpochReport&)>& on_epoch) {
#ifdef EMBEDKIT_PYTHON_WITH_MPI
  const dist::Communicator c = communicator(comm);
  py::gil_scoped_release release;
  return std::move(
      *dist::train_recommender(c, ratings, options, on_epoch, dist::ResultOn::EveryRank));
#else
  (void)comm, (void)ratings, (void)options, (void)on_epoch;
  no_mpi();
#endif
}

void bind_dist(py::module_& m) {
  m.attr("has_mpi") = built_with_mpi();
}

}  // namespace embedkit::python
