// The checkpoint container: round trip, and every truncation or single-bit flip is refused.
#include "io/checkpoint.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "run/checkpoint.hpp"

namespace {

using mnsim::InputError;
using namespace mnsim::io;

CheckpointFile sample() {
  CheckpointFile c;
  c.kind = "run";
  c.key = 0x0123456789abcdefULL;
  ByteWriter w;
  w.f64(1.5);
  w.str("hello");
  const std::vector<float> f{1.0f, -2.5f, std::numeric_limits<float>::denorm_min()};
  w.floats(f);
  c.sections.emplace_back("a", w.take());
  c.sections.emplace_back("empty", "");
  return c;
}

TEST(Crc32, StandardCheckValue) {
  // The CRC-32 check value of "123456789" (IEEE 802.3 / zlib).
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
  // Continuation equals one pass.
  EXPECT_EQ(crc32("6789", crc32("12345")), crc32("123456789"));
}

TEST(CheckpointContainer, RoundTripIsExact) {
  const CheckpointFile c = sample();
  const std::string bytes = encode_checkpoint(c);
  const CheckpointFile d = decode_checkpoint(bytes, "x.ckpt");
  EXPECT_EQ(d.kind, "run");
  EXPECT_EQ(d.key, c.key);
  ASSERT_EQ(d.sections.size(), 2u);
  ByteReader r(d.section("a", "x.ckpt"), "x.ckpt", "a");
  EXPECT_EQ(r.f64(), 1.5);
  EXPECT_EQ(r.str(10), "hello");
  const std::vector<float> f = r.floats();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[1], -2.5f);
  EXPECT_EQ(f[2], std::numeric_limits<float>::denorm_min());
  r.expect_end();
  EXPECT_TRUE(d.section("empty", "x.ckpt").empty());
  EXPECT_THROW(d.section("missing", "x.ckpt"), InputError);
}

TEST(CheckpointContainer, EveryTruncationIsRefused) {
  const std::string bytes = encode_checkpoint(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THROW(decode_checkpoint(bytes.substr(0, n), "x.ckpt"), InputError) << n;
  }
  EXPECT_THROW(decode_checkpoint(bytes + "x", "x.ckpt"), InputError);
}

TEST(CheckpointContainer, EveryBitFlipIsRefused) {
  const std::string bytes = encode_checkpoint(sample());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int b = 0; b < 8; ++b) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ (1 << b));
      EXPECT_THROW(decode_checkpoint(bad, "x.ckpt"), InputError) << i << ":" << b;
    }
  }
}

TEST(CheckpointContainer, ErrorsAreOneLineNamingTheFile) {
  std::string bytes = encode_checkpoint(sample());
  bytes[bytes.size() / 2] ^= 0x01;
  try {
    decode_checkpoint(bytes, "dir/run.ckpt");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.line().rfind("dir/run.ckpt:1:1: (checkpoint): ", 0), 0u) << e.line();
    EXPECT_EQ(e.line().find('\n'), std::string::npos);
  }
}

TEST(ByteReader, HostileCountsDoNotAllocate) {
  ByteWriter w;
  w.u64(std::uint64_t{1} << 62);  // a float count far beyond the bytes present
  const std::string s = w.take();
  ByteReader r(s, "f", "s");
  EXPECT_THROW(r.floats(), InputError);
  ByteReader r2(s, "f", "s");
  EXPECT_THROW(r2.str(100), InputError);
  ByteWriter w2;
  w2.f64(std::nan(""));
  const std::string n = w2.take();
  ByteReader r3(n, "f", "s");
  EXPECT_THROW(r3.finite("x"), InputError);
}

TEST(RunState, RoundTripKeepsEveryBit) {
  mnsim::RunState s;
  s.t = 86400.123456789;
  s.dt = 3600.0 / 7.0;
  s.stats = {12, 3, 0.125, 7200.0};
  s.events_done = 4;
  s.bleeding_sum = 1e-300;
  s.puncture_total = 123456;
  s.first_stats_json = "{\"a\":1}";
  s.session_log_json = "[1,2]";
  s.punctures_csv = "session,x\n1,2\n";
  s.timeseries.push_back({1.0, "collagen1", "papillary_dermis", 0.1 + 0.2});
  s.snapshots.push_back({2.0, "after session 1"});
  s.scars.push_back({3.0, 7, 1.0 / 3.0 * 1e-4, -2e-6, 1e-300, 0.25});
  s.started_utc = "2026-11-23T00:00:00Z";
  s.wall_s = 12.5;
  s.nx = 2;
  s.ny = 1;
  s.nz = 1;
  s.padded = 3;
  s.field_names = {"damage"};
  // Tethering bands: an untouched one and one cut, partly re-formed and failed.
  s.tethers = {mnsim::outcomes::TetherState{},
               mnsim::outcomes::TetherState{0.6, 1.0 / 3.0 * 0.4, true, 30 * 86400.0}};
  const std::vector<float> f{1.0f, 2.0f, 3.0f};
  const std::vector<std::span<const float>> views{f};
  const CheckpointFile c = mnsim::encode_run_state(s, views, 42);
  const mnsim::RunState d =
      mnsim::decode_run_state(decode_checkpoint(encode_checkpoint(c), "r"), "r");
  EXPECT_EQ(d.t, s.t);
  EXPECT_EQ(d.dt, s.dt);
  EXPECT_EQ(d.stats.accepted, 12);
  EXPECT_EQ(d.stats.dt_largest, 7200.0);
  EXPECT_EQ(d.events_done, 4u);
  EXPECT_EQ(d.bleeding_sum, 1e-300);
  EXPECT_EQ(d.punctures_csv, s.punctures_csv);
  ASSERT_EQ(d.timeseries.size(), 1u);
  EXPECT_EQ(d.timeseries[0].value, 0.1 + 0.2);
  EXPECT_EQ(d.timeseries[0].layer, "papillary_dermis");
  ASSERT_EQ(d.snapshots.size(), 1u);
  EXPECT_EQ(d.snapshots[0].label, "after session 1");
  ASSERT_EQ(d.scars.size(), 1u);
  EXPECT_EQ(d.scars[0].t, 3.0);
  EXPECT_EQ(d.scars[0].scar, 7u);
  EXPECT_EQ(d.scars[0].depth, 1.0 / 3.0 * 1e-4);
  EXPECT_EQ(d.scars[0].rise_under, -2e-6);
  EXPECT_EQ(d.scars[0].rise_around, 1e-300);
  EXPECT_EQ(d.scars[0].band_intact, 0.25);
  EXPECT_EQ(d.tethers, s.tethers);  // bit for bit: a resumed band goes on as it was
  EXPECT_EQ(d.started_utc, s.started_utc);
  ASSERT_EQ(d.fields.size(), 1u);
  EXPECT_EQ(d.fields[0], f);
  // A snapshot checkpoint is not a run checkpoint.
  mnsim::StoredSnapshot sn;
  sn.nx = sn.ny = sn.nz = 1;
  sn.field_names = {"damage"};
  sn.values = {{0.5f}};
  EXPECT_THROW(mnsim::decode_run_state(mnsim::encode_snapshot(sn, 42), "s"), InputError);
  EXPECT_EQ(mnsim::decode_snapshot(mnsim::encode_snapshot(sn, 42), "s").values[0][0], 0.5f);
}

}  // namespace
