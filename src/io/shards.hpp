// Shards of a job array (docs/scaling.md, "Shards"): a command whose work is a list of items
// keyed by their index (a sensitivity design's evaluations, a planner's candidates) runs as N
// independent tasks, `--shard i/N` each, and `mnsim merge` joins their results. Shard i of N
// computes the items e with e mod N = i - 1 (the round robin of MPI ranks, core/ranks.hpp) and
// leaves two files in its output folder:
//
//   shard.json  what it is: {"mnsim_shard": KIND, "shard": i, "shards": N, "items": n,
//               "items_in_shard": m, "key": "<16 hex digits>"} (the key names the input: the
//               resolved file, the data it read and the build; a merge refuses another key)
//   shard.rec   the items' results: "MNSIMSHD", u32 format, u64 key, u32 shard, u32 shards,
//               u64 items, u64 count, then count times (u64 index, u64 length, bytes), then
//               the CRC-32 of everything before it
//
// read_shards checks a set of folders (every shard of one split once, the same key, each file
// whole) and returns every item's bytes in index order; anything else is an InputError naming
// the folder and saying which shard to rerun. A shard is rerun alone: its results depend only on
// the input and its index.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mnsim::io {

/// Whether item `item` (0-based) belongs to shard `shard` (1-based) of `shards`.
bool in_shard(std::uint64_t item, int shard, int shards);
/// How many of `items` items shard `shard` of `shards` holds.
std::uint64_t items_in_shard(std::uint64_t items, int shard, int shards);

/// A shard of KIND ("sensitivity", "plan"): which one, of what.
struct ShardId {
  std::string kind;
  int shard = 1, shards = 1;
  std::uint64_t key = 0;    // names the input (the merge refuses another)
  std::uint64_t items = 0;  // items of the whole run
};

/// Writes shard.json and shard.rec into `dir` (an output folder's staging folder): `results`
/// holds the bytes of every item of the shard, in index order (size items_in_shard).
/// std::invalid_argument for a wrong count. Returns the two file names (commit order).
std::vector<std::string> write_shard(const std::filesystem::path& dir, const ShardId& id,
                                     const std::vector<std::string>& results);

/// The KIND of the shard in folder `dir` (its shard.json's "mnsim_shard"), or "" if it holds no
/// readable shard.json of this format.
std::string shard_kind(const std::filesystem::path& dir);

/// The shards a merge has been given so far, by index: every one of one split (the same N),
/// none twice. Shared by every merge (cohort records, read_shards).
class ShardSplit {
 public:
  /// Takes shard `shard`/`count` from folder `dir`; InputError at the command line naming the
  /// folder for a shard of another split or one already taken.
  void take(const std::filesystem::path& dir, int shard, int count);
  /// N of the split (0 before the first shard).
  int shards() const { return shards_; }
  /// The folder that held shard `shard` (1-based).
  const std::string& folder(int shard) const { return seen_[static_cast<std::size_t>(shard - 1)]; }
  /// InputError at the command line listing the missing shards, if any; `rerun` is how to run
  /// one (e.g. "mnsim cohort FILE --shard i/N --out DIR").
  void require_all(std::string_view rerun) const;

 private:
  int shards_ = 0;
  std::vector<std::string> seen_;  // by shard index - 1: the folder that holds it
};

/// Joins the shards of a KIND run with `key` and `items` items from `dirs` (every shard of one
/// split once, in any order): every item's bytes in index order. InputError at the command line
/// (or the folder's file) naming the folder for: a folder that is not a KIND shard, another key
/// ("written for another input or by another mnsim build"), a shard of another split, a shard
/// given twice, a missing shard, a torn or corrupt shard.rec. `rerun` is how to rerun a shard,
/// e.g. "mnsim sensitivity FILE --shard i/N --out DIR".
std::vector<std::string> read_shards(const std::vector<std::filesystem::path>& dirs,
                                     std::string_view kind, std::uint64_t key, std::uint64_t items,
                                     std::string_view rerun);

}  // namespace mnsim::io
