#include "core/ranks.hpp"

#include <fmt/format.h>

#include <atomic>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef MNSIM_MPI
#include <mpi.h>
#endif

#include "core/cancel.hpp"
#include "core/error.hpp"

namespace mnsim {

ErrorExit error_exit(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const RankError& x) {
    return {x.code(), x.line()};
  } catch (const InputError& x) {
    return {2, x.line()};
  } catch (const Interrupted& x) {
    return {x.signal() == SIGTERM ? 143 : 130,
            fmt::format("interrupted by {}: {}", x.signal() == SIGTERM ? "SIGTERM" : "SIGINT",
                        x.what())};
  } catch (const NumericalError& x) {
    return {1, printable(fmt::format("numerical failure: {}", x.what()))};
  } catch (const OutputError& x) {
    return {1, printable(x.what())};
  } catch (const std::bad_alloc&) {
    return {1,
            "out of memory: this process may not use as much memory as the run needs "
            "(`mnsim check` prints the estimate; a coarser resolution or a smaller patch needs "
            "less)"};
  } catch (const std::exception& x) {
    return {1, printable(fmt::format("internal error: {} (please report this)", x.what()))};
  } catch (...) {
    return {1, "internal error: an unknown exception (please report this)"};
  }
}

namespace {

// A status exchanged by agree and map_items: empty when fine, else the failing item (or rank),
// the exit code and the line.
std::string encode_failure(std::uint64_t where, const ErrorExit& x) {
  std::string s(sizeof where + sizeof x.code, '\0');
  std::memcpy(s.data(), &where, sizeof where);
  std::memcpy(s.data() + sizeof where, &x.code, sizeof x.code);
  return s + x.line;
}

struct Failure {
  std::uint64_t where = 0;
  ErrorExit exit;
};

Failure decode_failure(const std::string& s) {
  Failure f;
  std::memcpy(&f.where, s.data(), sizeof f.where);
  std::memcpy(&f.exit.code, s.data() + sizeof f.where, sizeof f.exit.code);
  f.exit.line = s.substr(sizeof f.where + sizeof f.exit.code);
  return f;
}

// The failure with the lowest `where` among the ranks' statuses; throws it as a RankError.
void throw_lowest(const std::vector<std::string>& statuses) {
  const Failure* best = nullptr;
  std::vector<Failure> fs;
  fs.reserve(statuses.size());
  for (const auto& s : statuses) {
    if (!s.empty()) fs.push_back(decode_failure(s));
  }
  for (const auto& f : fs) {
    if (!best || f.where < best->where) best = &f;
  }
  if (best) throw RankError(best->exit.code, best->exit.line);
}

#ifdef MNSIM_MPI
bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

std::atomic<bool> g_initialised{false};

// Sizes as MPI counts (int): a gather of 2 GiB or more from one rank is refused, not truncated.
int mpi_count(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    throw std::length_error(fmt::format("{} bytes in one MPI message (at most {})", n, INT_MAX));
  }
  return static_cast<int>(n);
}

std::vector<std::string> exchange(const std::string& local, int size, bool to_all) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const long long mine = static_cast<long long>(local.size());
  std::vector<long long> sizes(static_cast<std::size_t>(size));
  if (to_all) {
    MPI_Allgather(&mine, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, MPI_COMM_WORLD);
  } else {
    MPI_Gather(&mine, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  }
  std::vector<int> counts(static_cast<std::size_t>(size)), displs(static_cast<std::size_t>(size));
  std::size_t total = 0;
  for (int r = 0; r < size; ++r) {
    counts[static_cast<std::size_t>(r)] = mpi_count(static_cast<std::size_t>(sizes[r]));
    displs[static_cast<std::size_t>(r)] = mpi_count(total);
    total += static_cast<std::size_t>(sizes[r]);
  }
  const bool receives = to_all || rank == 0;
  std::string all(receives ? total : 0, '\0');
  (void)mpi_count(total);
  if (to_all) {
    MPI_Allgatherv(local.data(), mpi_count(local.size()), MPI_CHAR, all.data(), counts.data(),
                   displs.data(), MPI_CHAR, MPI_COMM_WORLD);
  } else {
    MPI_Gatherv(local.data(), mpi_count(local.size()), MPI_CHAR, all.data(), counts.data(),
                displs.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
  }
  std::vector<std::string> out;
  if (!receives) return out;
  for (int r = 0; r < size; ++r) {
    out.push_back(all.substr(static_cast<std::size_t>(displs[static_cast<std::size_t>(r)]),
                             static_cast<std::size_t>(counts[static_cast<std::size_t>(r)])));
  }
  return out;
}
#endif

// Items' results of one rank, concatenated: u64 length, bytes.
void append_item(std::string& s, const std::string& item) {
  const std::uint64_t n = item.size();
  s.append(reinterpret_cast<const char*>(&n), sizeof n);
  s += item;
}

// Test hook (tests/mpi/mpi_test.sh): MNSIM_TEST_RANK_FAILS="R:throw" makes rank R throw in the
// middle of map_items, outside the ranks' agreement; "R:kill" kills it (SIGKILL). No effect
// without the variable or with one rank.
void test_rank_failure(const Ranks& ranks) {
  const char* v = std::getenv("MNSIM_TEST_RANK_FAILS");
  if (v == nullptr || !ranks.several()) return;
  const std::string s(v);
  const auto colon = s.find(':');
  if (colon == std::string::npos || s.substr(0, colon) != std::to_string(ranks.rank())) return;
  if (s.substr(colon + 1) == "kill") std::raise(SIGKILL);
  throw std::runtime_error("test failure (MNSIM_TEST_RANK_FAILS)");
}

}  // namespace

const Ranks& Ranks::single() {
  static const Ranks one(0, 1, false);
  return one;
}

const Ranks& Ranks::world() {
#ifdef MNSIM_MPI
  static const Ranks w = [] {
    if (!launched_by_mpirun()) return Ranks(0, 1, false);
    int provided = 0;
    // Only the main thread calls MPI (OpenMP threads compute, they do not communicate).
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    g_initialised = true;
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return Ranks(rank, size, true);
  }();
  return w;
#else
  return single();
#endif
}

bool mpi_build() {
#ifdef MNSIM_MPI
  return true;
#else
  return false;
#endif
}

RankSession::~RankSession() {
#ifdef MNSIM_MPI
  if (g_initialised.exchange(false)) MPI_Finalize();
#endif
}

std::vector<std::string> Ranks::all_gather(std::string local) const {
#ifdef MNSIM_MPI
  if (mpi_ && size_ > 1) return exchange(local, size_, true);
#endif
  return {std::move(local)};
}

std::vector<std::string> Ranks::gather(std::string local) const {
#ifdef MNSIM_MPI
  if (mpi_ && size_ > 1) return exchange(local, size_, false);
#endif
  return {std::move(local)};
}

void Ranks::abort(std::string_view message, int code) const {
  std::fprintf(stderr, "error: rank %d of %d: %s; ending every rank\n", rank_, size_,
               printable(message).c_str());
  std::fflush(stderr);
#ifdef MNSIM_MPI
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

std::vector<std::size_t> rank_items(std::size_t n, int rank, int size) {
  std::vector<std::size_t> out;
  if (size < 1 || rank < 0 || rank >= size) return out;
  for (std::size_t i = static_cast<std::size_t>(rank); i < n; i += static_cast<std::size_t>(size)) {
    out.push_back(i);
  }
  return out;
}

void agree(const Ranks& ranks, const std::function<void()>& step) {
  if (!ranks.several()) {
    step();
    return;
  }
  std::string status;
  try {
    step();
  } catch (...) {
    status = encode_failure(static_cast<std::uint64_t>(ranks.rank()),
                            error_exit(std::current_exception()));
  }
  throw_lowest(ranks.all_gather(std::move(status)));
}

std::vector<std::string> map_items(const Ranks& ranks, std::size_t n,
                                   const std::function<std::string(std::size_t)>& item,
                                   Deliver deliver, int threads, Progress* progress,
                                   std::string_view stage) {
  const std::vector<std::size_t> mine = rank_items(n, ranks.rank(), ranks.size());
  std::vector<std::string> out(mine.size());
  std::vector<std::exception_ptr> errors(mine.size());
  std::atomic<std::size_t> done{0};
  if (progress) {
    progress->stage(stage);
    progress->advance(0.0, static_cast<double>(mine.size()));
  }
#ifdef _OPENMP
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#else
  (void)threads;
#endif
  const auto count = static_cast<long long>(mine.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (long long k = 0; k < count; ++k) {
    const auto j = static_cast<std::size_t>(k);
    try {
      out[j] = item(mine[j]);
    } catch (...) {
      errors[j] = std::current_exception();
    }
    if (progress) {
      ++done;
#pragma omp critical(mnsim_map_items_progress)
      progress->advance(static_cast<double>(done.load()), static_cast<double>(mine.size()));
    }
  }
  test_rank_failure(ranks);
  // The lowest failing item of this rank (its items are in increasing order).
  std::string status;
  for (std::size_t j = 0; j < mine.size(); ++j) {
    if (!errors[j]) continue;
    if (!ranks.several()) std::rethrow_exception(errors[j]);
    status = encode_failure(mine[j], error_exit(errors[j]));
    break;
  }
  if (!ranks.several()) return out;
  throw_lowest(ranks.all_gather(std::move(status)));
  // This rank's results in one message; put back in item order.
  std::string packed;
  for (const auto& r : out) append_item(packed, r);
  out.clear();
  const std::vector<std::string> parts = deliver == Deliver::Everyone
                                             ? ranks.all_gather(std::move(packed))
                                             : ranks.gather(std::move(packed));
  if (parts.empty()) return {};
  std::vector<std::string> all(n);
  for (int r = 0; r < ranks.size(); ++r) {
    const std::string& p = parts[static_cast<std::size_t>(r)];
    std::size_t pos = 0;
    for (std::size_t i = static_cast<std::size_t>(r); i < n;
         i += static_cast<std::size_t>(ranks.size())) {
      std::uint64_t len = 0;
      if (pos + sizeof len > p.size()) ranks.abort("a rank sent fewer results than its items", 1);
      std::memcpy(&len, p.data() + pos, sizeof len);
      pos += sizeof len;
      if (len > p.size() - pos) ranks.abort("a rank sent a truncated result", 1);
      all[i] = p.substr(pos, static_cast<std::size_t>(len));
      pos += static_cast<std::size_t>(len);
    }
  }
  return all;
}

}  // namespace mnsim
