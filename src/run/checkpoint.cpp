#include "run/checkpoint.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/version.hpp"

namespace mnsim {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kMaxText = std::size_t{1} << 30;
constexpr std::size_t kMaxName = 256;
constexpr std::uint64_t kMaxFields = 256;
constexpr int kMaxSide = 1 << 20;

void check_dims(io::ByteReader& r, int& nx, int& ny, int& nz) {
  const std::uint32_t x = r.u32(), y = r.u32(), z = r.u32();
  if (x == 0 || y == 0 || z == 0 || x > kMaxSide || y > kMaxSide || z > kMaxSide) {
    r.fail(fmt::format("grid of {} x {} x {} cells", x, y, z));
  }
  nx = static_cast<int>(x);
  ny = static_cast<int>(y);
  nz = static_cast<int>(z);
}
}  // namespace

std::uint64_t run_checkpoint_key(const std::string& resolved_scenario) {
  std::uint64_t h = io::fnv1a64("mnsim run checkpoint\n");
  for (const std::string& part : {version(), git_commit(), build_type(), resolved_scenario}) {
    h = io::fnv1a64(part, h);
    h = io::fnv1a64(std::string_view("\0", 1), h);
  }
  return h;
}

io::CheckpointFile encode_run_state(const RunState& s,
                                    std::span<const std::span<const float>> fields,
                                    std::uint64_t key) {
  io::CheckpointFile c;
  c.kind = "run";
  c.key = key;
  io::ByteWriter w;
  w.f64(s.t);
  w.f64(s.dt);
  w.i64(s.stats.accepted);
  w.i64(s.stats.rejected);
  w.f64(s.stats.dt_smallest);
  w.f64(s.stats.dt_largest);
  w.i64(s.steps_since_check);
  w.f64(s.checked_step);
  w.u64(s.events_done);
  w.f64(s.bleeding_sum);
  w.u64(s.puncture_total);
  w.str(s.started_utc);
  w.f64(s.wall_s);
  w.u8(s.finished ? 1 : 0);
  c.sections.emplace_back("state", w.take());
  w.str(s.first_stats_json);
  w.str(s.session_log_json);
  w.str(s.punctures_csv);
  w.str(s.applications_json);
  c.sections.emplace_back("log", w.take());
  w.u64(s.timeseries.size());
  for (const auto& r : s.timeseries) {
    w.f64(r.t);
    w.str(r.quantity);
    w.str(r.layer);
    w.f64(r.value);
  }
  c.sections.emplace_back("timeseries", w.take());
  w.u64(s.scars.size());
  for (const auto& sc : s.scars) {
    w.f64(sc.t);
    w.u32(sc.scar);
    w.f64(sc.depth);
    w.f64(sc.rise_under);
    w.f64(sc.rise_around);
    w.f64(sc.band_intact);
  }
  c.sections.emplace_back("scars", w.take());
  w.u64(s.tethers.size());
  for (const auto& b : s.tethers) {
    w.f64(b.uncut);
    w.f64(b.reformed);
    w.u8(b.failed ? 1 : 0);
    w.f64(b.t);
  }
  c.sections.emplace_back("tethers", w.take());
  w.u64(s.snapshots.size());
  for (const auto& sn : s.snapshots) {
    w.f64(sn.t);
    w.str(sn.label);
  }
  c.sections.emplace_back("snapshots", w.take());
  if (fields.size() != s.field_names.size()) {
    throw std::logic_error("internal: run state field names and buffers differ");
  }
  std::size_t field_bytes = 4 * 3 + 8 + 8;
  for (std::size_t f = 0; f < fields.size(); ++f) {
    field_bytes += 8 + s.field_names[f].size() + 8 + 4 * fields[f].size();
  }
  w.reserve(field_bytes);  // one allocation for every field of the grid
  w.u32(static_cast<std::uint32_t>(s.nx));
  w.u32(static_cast<std::uint32_t>(s.ny));
  w.u32(static_cast<std::uint32_t>(s.nz));
  w.u64(s.padded);
  w.u64(fields.size());
  for (std::size_t f = 0; f < fields.size(); ++f) {
    if (fields[f].size() != s.padded) throw std::logic_error("internal: field buffer size");
    w.str(s.field_names[f]);
    w.floats(fields[f]);
  }
  c.sections.emplace_back("fields", w.take());
  return c;
}

RunState decode_run_state(const io::CheckpointFile& c, const std::string& file) {
  if (c.kind != "run") {
    io::ByteReader("", file, "header").fail(fmt::format("a '{}' checkpoint, not a run", c.kind));
  }
  RunState s;
  {
    io::ByteReader r(c.section("state", file), file, "state");
    s.t = r.finite("time");
    s.dt = r.finite("step");
    if (s.t < 0.0 || !(s.dt > 0.0)) r.fail("negative time or step");
    s.stats.accepted = r.i64();
    s.stats.rejected = r.i64();
    if (s.stats.accepted < 0 || s.stats.rejected < 0) r.fail("negative step count");
    s.stats.dt_smallest = r.finite("smallest step");
    s.stats.dt_largest = r.finite("largest step");
    s.steps_since_check = r.i64();
    s.checked_step = r.finite("checked step");
    if (s.steps_since_check < 0 || s.checked_step < 0.0) r.fail("negative step-check state");
    s.events_done = r.u64();
    s.bleeding_sum = r.finite("bleeding sum");
    s.puncture_total = r.u64();
    s.started_utc = r.str(64);
    s.wall_s = r.finite("wall time");
    const std::uint8_t finished = r.u8();
    if (finished > 1) r.fail(fmt::format("finished flag {}", finished));
    s.finished = finished == 1;
    r.expect_end();
  }
  {
    io::ByteReader r(c.section("log", file), file, "log");
    s.first_stats_json = r.str(kMaxText);
    s.session_log_json = r.str(kMaxText);
    s.punctures_csv = r.str(kMaxText);
    s.applications_json = r.str(kMaxText);
    r.expect_end();
  }
  {
    io::ByteReader r(c.section("timeseries", file), file, "timeseries");
    // Each row takes at least 32 bytes (two doubles, two string lengths).
    const std::uint64_t n = r.count(r.left() / 32, "row count");
    s.timeseries.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      io::TimeSeries::Row row;
      row.t = r.finite("row time");
      row.quantity = r.str(kMaxName);
      row.layer = r.str(kMaxName);
      row.value = r.f64();
      s.timeseries.push_back(std::move(row));
    }
    r.expect_end();
  }
  {
    io::ByteReader r(c.section("scars", file), file, "scars");
    // Each sample takes 44 bytes (five doubles and an index).
    const std::uint64_t n = r.count(r.left() / 44, "scar sample count");
    s.scars.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      RunState::ScarSample sc;
      sc.t = r.finite("scar sample time");
      sc.scar = r.u32();
      sc.depth = r.finite("scar depth");
      sc.rise_under = r.finite("scar floor rise");
      sc.rise_around = r.finite("scar rim rise");
      sc.band_intact = r.finite("scar band");
      s.scars.push_back(sc);
    }
    r.expect_end();
  }
  {
    io::ByteReader r(c.section("tethers", file), file, "tethers");
    // Each band takes 25 bytes (three doubles and a flag).
    const std::uint64_t n = r.count(r.left() / 25, "tether count");
    for (std::uint64_t i = 0; i < n; ++i) {
      outcomes::TetherState b;
      b.uncut = r.finite("band uncut share");
      b.reformed = r.finite("band re-formed share");
      const std::uint8_t failed = r.u8();
      if (failed > 1) r.fail(fmt::format("band failed flag {}", failed));
      b.failed = failed == 1;
      b.t = r.finite("band time");
      if (b.uncut < 0.0 || b.uncut > 1.0 || b.reformed < 0.0 ||
          b.uncut + b.reformed > 1.0 + 1e-12) {
        r.fail("band shares outside 0..1");
      }
      s.tethers.push_back(b);
    }
    r.expect_end();
  }
  {
    io::ByteReader r(c.section("snapshots", file), file, "snapshots");
    const std::uint64_t n = r.count(r.left() / 16, "snapshot count");
    for (std::uint64_t i = 0; i < n; ++i) {
      RunState::Snapshot sn;
      sn.t = r.finite("snapshot time");
      sn.label = r.str(kMaxName);
      s.snapshots.push_back(std::move(sn));
    }
    r.expect_end();
  }
  {
    io::ByteReader r(c.section("fields", file), file, "fields");
    check_dims(r, s.nx, s.ny, s.nz);
    s.padded = r.u64();
    const std::uint64_t cells = static_cast<std::uint64_t>(s.nx) *
                                static_cast<std::uint64_t>(s.ny) * static_cast<std::uint64_t>(s.nz);
    if (s.padded < cells || s.padded > r.left() / 4 + 1) {
      r.fail(fmt::format("padded size {} for {} cells", s.padded, cells));
    }
    const std::uint64_t n = r.count(kMaxFields, "field count");
    for (std::uint64_t f = 0; f < n; ++f) {
      s.field_names.push_back(r.str(kMaxName));
      s.fields.push_back(r.floats());
      if (s.fields.back().size() != s.padded) {
        r.fail(fmt::format("field '{}' has {} values, not {}", s.field_names.back(),
                           s.fields.back().size(), s.padded));
      }
    }
    r.expect_end();
  }
  return s;
}

io::CheckpointFile encode_snapshot(const StoredSnapshot& s, std::uint64_t key) {
  io::CheckpointFile c;
  c.kind = "snapshot";
  c.key = key;
  io::ByteWriter w;
  w.f64(s.t);
  w.str(s.label);
  w.u32(static_cast<std::uint32_t>(s.nx));
  w.u32(static_cast<std::uint32_t>(s.ny));
  w.u32(static_cast<std::uint32_t>(s.nz));
  std::size_t bytes = 8;
  for (std::size_t f = 0; f < s.values.size(); ++f) {
    bytes += 8 + s.field_names.at(f).size() + 8 + 4 * s.values[f].size();
  }
  w.reserve(bytes);
  w.u64(s.values.size());
  for (std::size_t f = 0; f < s.values.size(); ++f) {
    w.str(s.field_names.at(f));
    w.floats(s.values[f]);
  }
  c.sections.emplace_back("snapshot", w.take());
  return c;
}

StoredSnapshot decode_snapshot(const io::CheckpointFile& c, const std::string& file) {
  if (c.kind != "snapshot") {
    io::ByteReader("", file, "header")
        .fail(fmt::format("a '{}' checkpoint, not a snapshot", c.kind));
  }
  StoredSnapshot s;
  io::ByteReader r(c.section("snapshot", file), file, "snapshot");
  s.t = r.finite("time");
  s.label = r.str(kMaxName);
  check_dims(r, s.nx, s.ny, s.nz);
  const std::uint64_t cells = static_cast<std::uint64_t>(s.nx) * static_cast<std::uint64_t>(s.ny) *
                              static_cast<std::uint64_t>(s.nz);
  const std::uint64_t n = r.count(kMaxFields, "field count");
  for (std::uint64_t f = 0; f < n; ++f) {
    s.field_names.push_back(r.str(kMaxName));
    s.values.push_back(r.floats());
    if (s.values.back().size() != cells) {
      r.fail(fmt::format("field '{}' has {} values, not {}", s.field_names.back(),
                         s.values.back().size(), cells));
    }
  }
  r.expect_end();
  return s;
}

fs::path checkpoint_dir(const fs::path& out) {
  return out / "checkpoint";
}
fs::path run_checkpoint_path(const fs::path& out) {
  return checkpoint_dir(out) / "run.ckpt";
}
fs::path snapshot_path(const fs::path& out, std::size_t index) {
  return checkpoint_dir(out) / fmt::format("snapshot-{:06}.ckpt", index);
}

}  // namespace mnsim
