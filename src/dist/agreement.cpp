#include "dist/agreement.hpp"

#include <mpi.h>

#include <array>
#include <exception>

#include "dist/communicator_impl.hpp"
#include "embedkit/core/error.hpp"

namespace embedkit::dist::detail {

namespace {

enum class Kind : std::int64_t { None, Index, Type, Io, Value, Mpi, Other };

struct LocalFailure {
  Kind kind = Kind::None;
  std::string message;
  std::string path;                     // IoError
  std::array<std::int64_t, 4> index{};  // IndexError: position, value, low, high
};

LocalFailure run(const std::function<void()>& check) {
  LocalFailure f;
  try {
    check();
  } catch (const IndexError& e) {
    f = {Kind::Index, e.what(), {}, {e.position(), e.value(), e.low(), e.high()}};
  } catch (const TypeError& e) {
    f = {Kind::Type, e.what(), {}, {}};
  } catch (const IoError& e) {
    f = {Kind::Io, e.what(), e.path(), {}};
  } catch (const ValueError& e) {
    f = {Kind::Value, e.what(), {}, {}};
  } catch (const MpiError& e) {
    f = {Kind::Mpi, e.what(), {}, {}};
  } catch (const std::exception& e) {
    f = {Kind::Other, e.what(), {}, {}};
  }
  return f;
}

// Rank `root`'s string, on every rank.
std::string broadcast_string(MPI_Comm comm, int root, const std::string& mine) {
  std::int64_t length = static_cast<std::int64_t>(mine.size());
  check_mpi(MPI_Bcast(&length, 1, MPI_INT64_T, root, comm), "MPI_Bcast");
  std::string text = mine;
  text.resize(static_cast<std::size_t>(length));
  check_mpi(MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, root, comm), "MPI_Bcast");
  return text;
}

}  // namespace

void agree_on(const Communicator& comm, const std::function<void()>& local_check) {
  const LocalFailure mine = run(local_check);
  const MPI_Comm c = native(comm);
  int candidate = mine.kind == Kind::None ? comm.size() : comm.rank();
  int first = comm.size();
  check_mpi(MPI_Allreduce(&candidate, &first, 1, MPI_INT, MPI_MIN, c), "MPI_Allreduce");
  if (first == comm.size()) return;

  std::array<std::int64_t, 5> head = {static_cast<std::int64_t>(mine.kind), mine.index[0],
                                      mine.index[1], mine.index[2], mine.index[3]};
  check_mpi(MPI_Bcast(head.data(), 5, MPI_INT64_T, first, c), "MPI_Bcast");
  const std::string message = broadcast_string(c, first, mine.message);
  const std::string path = broadcast_string(c, first, mine.path);
  const std::string where = "rank " + std::to_string(first) + ": ";
  switch (static_cast<Kind>(head[0])) {
    case Kind::Index: {
      // IndexError's message is "<what ids>: value V at position P ..."; keep its parts.
      const std::string tail = ": value " + std::to_string(head[2]) + " at position ";
      const std::size_t cut = message.rfind(tail);
      const std::string what_ids = cut == std::string::npos ? message : message.substr(0, cut);
      throw IndexError(where + what_ids, head[1], head[2], head[3], head[4]);
    }
    case Kind::Type:
      throw TypeError(where + message);
    case Kind::Io: {
      const std::string rest =
          message.rfind(path + ": ", 0) == 0 ? message.substr(path.size() + 2) : message;
      throw IoError(path, where + rest);
    }
    case Kind::Value:
      throw ValueError(where + message);
    case Kind::Mpi:
      throw MpiError(where + message);
    default:
      throw Error(where + message);
  }
}

void check_same_on_all_ranks(const Communicator& comm, const std::string& who,
                             const std::vector<std::pair<std::string, std::int64_t>>& fields,
                             const std::string& advice) {
  const auto n = static_cast<int>(fields.size());
  std::vector<std::int64_t> values(fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) values[i] = fields[i].second;
  std::vector<std::int64_t> low(fields.size());
  std::vector<std::int64_t> high(fields.size());
  const MPI_Comm c = native(comm);
  check_mpi(MPI_Allreduce(values.data(), low.data(), n, MPI_INT64_T, MPI_MIN, c), "MPI_Allreduce");
  check_mpi(MPI_Allreduce(values.data(), high.data(), n, MPI_INT64_T, MPI_MAX, c), "MPI_Allreduce");
  std::string problems;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (low[i] == high[i]) continue;
    problems += (problems.empty() ? "" : ", ") + fields[i].first + " (from " +
                std::to_string(low[i]) + " to " + std::to_string(high[i]) + ")";
  }
  if (!problems.empty()) {
    throw ValueError(who + ": the ranks disagree on " + problems + "; " + advice);
  }
}

}  // namespace embedkit::dist::detail
