#include "io/shards.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/error.hpp"
#include "io/checkpoint.hpp"
#include "io/files.hpp"

namespace mnsim::io {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "MNSIMSHD";
constexpr std::uint32_t kFormat = 1;

std::string hex(std::uint64_t key) {
  return fmt::format("{:016x}", key);
}

}  // namespace

bool in_shard(std::uint64_t item, int shard, int shards) {
  return shards <= 0 ||
         item % static_cast<std::uint64_t>(shards) == static_cast<std::uint64_t>(shard - 1);
}

std::uint64_t items_in_shard(std::uint64_t items, int shard, int shards) {
  if (shards <= 0) return items;
  const auto n = static_cast<std::uint64_t>(shards), i = static_cast<std::uint64_t>(shard - 1);
  return items / n + (i < items % n ? 1 : 0);
}

std::vector<std::string> write_shard(const fs::path& dir, const ShardId& id,
                                     const std::vector<std::string>& results) {
  if (id.shards < 1 || id.shard < 1 || id.shard > id.shards ||
      results.size() != items_in_shard(id.items, id.shard, id.shards)) {
    throw std::invalid_argument("write_shard: a shard needs its items' results");
  }
  ByteWriter w;
  for (char c : kMagic) w.u8(static_cast<std::uint8_t>(c));
  w.u32(kFormat);
  w.u64(id.key);
  w.u32(static_cast<std::uint32_t>(id.shard));
  w.u32(static_cast<std::uint32_t>(id.shards));
  w.u64(id.items);
  w.u64(results.size());
  std::uint64_t item = static_cast<std::uint64_t>(id.shard - 1);
  for (const std::string& r : results) {
    w.u64(item);
    w.str(r);
    item += static_cast<std::uint64_t>(id.shards);
  }
  const std::uint32_t crc = crc32(w.bytes());
  w.u32(crc);
  write_file_atomic(dir / "shard.rec", w.bytes());
  nlohmann::ordered_json j;
  j["mnsim_shard"] = id.kind;
  j["shard"] = id.shard;
  j["shards"] = id.shards;
  j["items"] = id.items;
  j["items_in_shard"] = results.size();
  j["key"] = hex(id.key);
  write_file_atomic(dir / "shard.json", j.dump(2) + "\n");
  return {"shard.json", "shard.rec"};
}

namespace {

nlohmann::json shard_json(const fs::path& dir) {
  std::error_code ec;
  const fs::path jf = dir / "shard.json";
  if (!fs::is_regular_file(jf, ec)) return nlohmann::json();
  const nlohmann::json j = nlohmann::json::parse(
      read_text_file(jf, std::size_t{1} << 20, "a shard description"), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("mnsim_shard") ||
      !j["mnsim_shard"].is_string() || !j.contains("shard") || !j["shard"].is_number_integer() ||
      !j.contains("shards") || !j["shards"].is_number_integer() || !j.contains("key") ||
      !j["key"].is_string()) {
    return nlohmann::json();
  }
  return j;
}

}  // namespace

std::string shard_kind(const fs::path& dir) {
  const nlohmann::json j = shard_json(dir);
  return j.is_null() ? std::string() : j["mnsim_shard"].get<std::string>();
}

void ShardSplit::take(const fs::path& dir, int shard, int count) {
  const SourceLoc cli{"command line", 0, 0};
  if (count < 1 || shard < 1 || shard > count || (shards_ != 0 && count != shards_)) {
    throw InputError(cli, dir.string(),
                     fmt::format("holds shard {}/{}, but {} shards were expected", shard, count,
                                 shards_ != 0 ? shards_ : count),
                     "the shards of one split (the same N in --shard i/N)");
  }
  if (shards_ == 0) {
    shards_ = count;
    seen_.assign(static_cast<std::size_t>(count), std::string());
  }
  std::string& first = seen_[static_cast<std::size_t>(shard - 1)];
  if (!first.empty()) {
    throw InputError(cli, dir.string(),
                     fmt::format("holds shard {}/{}, as '{}' does", shard, count, first),
                     "each shard once");
  }
  first = dir.string();
}

void ShardSplit::require_all(std::string_view rerun) const {
  std::string missing;
  for (int s = 1; s <= shards_; ++s) {
    if (folder(s).empty())
      missing += fmt::format("{}{}/{}", missing.empty() ? "" : ", ", s, shards_);
  }
  if (!missing.empty()) {
    throw InputError({"command line", 0, 0}, "(shards)", "missing shard " + missing,
                     fmt::format("run each missing shard alone (`{}`) and merge again with "
                                 "every shard's folder",
                                 rerun));
  }
}

std::vector<std::string> read_shards(const std::vector<fs::path>& dirs, std::string_view kind,
                                     std::uint64_t key, std::uint64_t items,
                                     std::string_view rerun) {
  const SourceLoc cli{"command line", 0, 0};
  if (dirs.empty()) {
    throw InputError(cli, "(shards)", "no shard folder given", "every shard's output folder");
  }
  ShardSplit split;
  std::vector<std::string> out(static_cast<std::size_t>(items));
  for (const fs::path& d : dirs) {
    const nlohmann::json j = shard_json(d);
    if (j.is_null() || j["mnsim_shard"].get<std::string>() != kind) {
      throw InputError(
          cli, d.string(),
          fmt::format("is not the output folder of a {} shard (no shard.json of one)", kind),
          fmt::format("folders written by `{}`", rerun));
    }
    const int shard = j["shard"].get<int>(), count = j["shards"].get<int>();
    if (j["key"].get<std::string>() != hex(key)) {
      throw InputError(cli, d.string(),
                       "was written for another input file or by another mnsim build",
                       fmt::format("shards of this {} file, run by this mnsim build", kind));
    }
    split.take(d, shard, count);
    const fs::path rf = d / "shard.rec";
    const std::string bytes =
        open_input_file(rf, "(shard)", "an mnsim shard file").read_all(kMaxCheckpointBytes);
    const std::string again = fmt::format("rerun shard {}/{} (`{}`)", shard, count, rerun);
    if (bytes.size() < 4 ||
        crc32(std::string_view(bytes).substr(0, bytes.size() - 4)) !=
            ByteReader(std::string_view(bytes).substr(bytes.size() - 4), rf.string(), "(shard)")
                .u32()) {
      throw InputError({rf.string(), 1, 1}, "(shard)", "is torn or corrupt (checksum)", again);
    }
    ByteReader r(std::string_view(bytes).substr(0, bytes.size() - 4), rf.string(), "(shard)");
    std::string magic;
    for (std::size_t k = 0; k < kMagic.size(); ++k) magic += static_cast<char>(r.u8());
    if (magic != kMagic || r.u32() != kFormat || r.u64() != key ||
        r.u32() != static_cast<std::uint32_t>(shard) ||
        r.u32() != static_cast<std::uint32_t>(count) || r.u64() != items) {
      throw InputError({rf.string(), 1, 1}, "(shard)", "does not match its shard.json", again);
    }
    const std::uint64_t n = r.u64();
    if (n != items_in_shard(items, shard, count)) {
      throw InputError(
          {rf.string(), 1, 1}, "(shard)",
          fmt::format("holds {} of the shard's {} items", n, items_in_shard(items, shard, count)),
          again);
    }
    for (std::uint64_t k = 0; k < n; ++k) {
      const std::uint64_t item = r.u64();
      if (item >= items || !in_shard(item, shard, count)) {
        throw InputError(
            {rf.string(), 1, 1}, "(shard)",
            fmt::format("holds item {}, which is not in shard {}/{}", item + 1, shard, count),
            again);
      }
      out[static_cast<std::size_t>(item)] = r.str(r.left());
    }
    r.expect_end();
  }
  split.require_all(rerun);
  return out;
}

}  // namespace mnsim::io
