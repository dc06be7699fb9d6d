// Whether an MPI launcher (mpirun, mpiexec, srun) started this process, read from the
// variables the launchers set, before MPI is initialised: a command built with or without MPI
// asks this to choose its path, or to refuse a launch it cannot honour.
#pragma once

#include <cstdlib>
#include <optional>

namespace embedkit::cli {

// The number of processes of the MPI job this process was started in (OpenMPI's
// OMPI_COMM_WORLD_SIZE, MPICH's PMI_SIZE; PMIx alone counts as a job of unknown size, 0), or
// nullopt when no MPI launcher started it. Defined whether or not the command has MPI.
inline std::optional<int> mpi_launch_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    if (const char* v = std::getenv(name); v != nullptr) return std::atoi(v);
  }
  if (std::getenv("PMIX_RANK") != nullptr) return 0;
  return std::nullopt;
}

// This process's rank in the MPI job that started it (OMPI_COMM_WORLD_RANK, PMI_RANK, PMIX_RANK),
// or nullopt when no MPI launcher started it.
inline std::optional<int> mpi_launch_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"}) {
    if (const char* v = std::getenv(name); v != nullptr) return std::atoi(v);
  }
  return std::nullopt;
}

}  // namespace embedkit::cli
