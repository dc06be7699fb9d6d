// Errors that every rank raises together. A rank that threw alone would leave the others
// waiting in the next collective for ever; so each check that can fail on one rank (its own
// ids, its own files) runs on every rank first, then the ranks agree, and either all go on or
// all throw the first failing rank's error, naming that rank.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "embedkit/dist/communicator.hpp"

namespace embedkit::dist::detail {

// Runs `local_check` on this rank, then agrees (collective): when it threw on any rank, every
// rank throws an exception of the same type (IndexError, TypeError, IoError, ValueError,
// MpiError, else Error) whose message is "rank <r>: " + the message of the lowest failing rank
// r (an IoError keeps its path first). IndexError keeps its position, value and range.
void agree_on(const Communicator& comm, const std::function<void()>& local_check);

// Collective: every (name, value) must be the same on all ranks (an MPI_Allreduce of the
// minimum and the maximum); otherwise every rank throws ValueError
// "<who>: the ranks disagree on <name> (from <min> to <max>), ...; <advice>", one entry per
// field.
void check_same_on_all_ranks(
    const Communicator& comm, const std::string& who,
    const std::vector<std::pair<std::string, std::int64_t>>& fields,
    const std::string& advice = "every rank must build the table with the same options");

}  // namespace embedkit::dist::detail
