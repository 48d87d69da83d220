// The processes of one command (docs/scaling.md): under `mpirun -n N` in a build with MPI
// (CMake option MNSIM_MPI, the `mpi` preset), N ranks of MPI_COMM_WORLD; otherwise one.
//
// A command splits N independent work items over the ranks with map_items: item i is computed by
// rank i mod N (OpenMP threads inside each rank), and the results come back in item order, on
// the root or on every rank. Each item's result depends only on its index and the inputs, so
// the results are the same bytes for any number of ranks and threads. Every rank runs the same
// command on the same inputs (SPMD); only the root (rank 0) writes outputs and prints.
//
// Failures: an exception in a collective step (agree, map_items) on any rank becomes the same
// RankError on every rank (the error of the lowest failing item, or of the lowest failing rank),
// which the driver prints once from the root with its exit code: no rank waits for another
// that has given up. Anything else that escapes a rank while several run ends the whole job
// (Ranks::abort: MPI_Abort with the message). Without MPI, or with one rank, nothing is
// exchanged and exceptions pass through unchanged.
//
// This header does not include <mpi.h>: only core/ranks.cpp does, and only in an MPI build.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/progress.hpp"

namespace mnsim {

/// The exit code and the one-line message (without "error: ") of an exception, as the command
/// line driver prints it: InputError 2, Interrupted 130 (SIGINT) or 143 (SIGTERM), anything else
/// 1 (numerical failure, output error, out of memory, internal error).
struct ErrorExit {
  int code = 1;
  std::string line;
};
ErrorExit error_exit(const std::exception_ptr& e);

/// An error that every rank throws together (the same code and line on each).
class RankError : public std::runtime_error {
 public:
  RankError(int code, std::string line)
      : std::runtime_error(line), code_(code), line_(std::move(line)) {}
  int code() const { return code_; }
  const std::string& line() const { return line_; }

 private:
  int code_;
  std::string line_;
};

class Ranks {
 public:
  /// The ranks of this process. In an MPI build launched by mpirun (or another launcher that
  /// sets OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE), MPI is initialised on the first call and
  /// finalised at exit (RankSession); otherwise, and without MPI, a single rank.
  static const Ranks& world();
  /// One rank, nothing exchanged (tests, and the library's default).
  static const Ranks& single();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  bool several() const { return size_ > 1; }

  /// Every rank's bytes, in rank order, on every rank.
  std::vector<std::string> all_gather(std::string local) const;
  /// Every rank's bytes, in rank order, on the root (empty elsewhere).
  std::vector<std::string> gather(std::string local) const;
  /// Ends every rank of the job: prints "error: rank R of N: MESSAGE" on standard error and
  /// calls MPI_Abort (std::exit with one rank).
  [[noreturn]] void abort(std::string_view message, int code) const;

 private:
  Ranks(int rank, int size, bool mpi) : rank_(rank), size_(size), mpi_(mpi) {}
  int rank_ = 0, size_ = 1;
  bool mpi_ = false;
};

/// Whether this build can run over MPI ranks (MNSIM_MPI).
bool mpi_build();

/// Holds MPI for the life of `main` (finalises it on destruction when it was initialised).
class RankSession {
 public:
  RankSession() = default;
  RankSession(const RankSession&) = delete;
  RankSession& operator=(const RankSession&) = delete;
  ~RankSession();
};

/// The items rank `rank` of `size` computes: rank, rank + size, rank + 2 size, ... below n.
std::vector<std::size_t> rank_items(std::size_t n, int rank, int size);

/// Runs `step` on every rank; if it throws on any rank, every rank throws the RankError of the
/// lowest rank that failed (ErrorExit of its exception). With one rank, `step` runs and its
/// exceptions pass through. A check that only the root makes (opening the output folder) is a
/// step that does nothing on the other ranks.
void agree(const Ranks& ranks, const std::function<void()>& step);

/// Where map_items delivers the results.
enum class Deliver { Root, Everyone };

/// Computes `item(i)` (the encoded result of item i) for this rank's items (rank_items), with
/// `threads` OpenMP threads (<= 0: the default; dynamic schedule), and returns every item's
/// result in item order: on every rank (Deliver::Everyone) or on the root only (Deliver::Root;
/// an empty vector elsewhere). If items fail, every rank throws the RankError of the lowest
/// failing item (with one rank: that item's exception itself). `progress` (may be null) hears
/// `stage` and advance(done, total) for this rank's items from one thread at a time.
std::vector<std::string> map_items(const Ranks& ranks, std::size_t n,
                                   const std::function<std::string(std::size_t)>& item,
                                   Deliver deliver, int threads = 0, Progress* progress = nullptr,
                                   std::string_view stage = {});

}  // namespace mnsim
