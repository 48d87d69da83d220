#include "io/checkpoint.hpp"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <zlib.h>

#include "core/error.hpp"
#include "io/files.hpp"

namespace mnsim::io {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "MNSIMCKP";
constexpr std::string_view kEnd = "MNSIMEND";
constexpr std::size_t kMaxKind = 32;
constexpr std::size_t kMaxName = 64;
const char* kExpected = "an intact mnsim checkpoint";

[[noreturn]] void damaged(const std::string& file, const std::string& what) {
  throw InputError({file, 1, 1}, "(checkpoint)", what, kExpected);
}

}  // namespace

std::uint32_t crc32(std::string_view data, std::uint32_t crc) {
  // zlib's: several bytes per step, where a byte-at-a-time table took 30 ms of CPU per 15 MB
  // (zlib 2.3 ms); a checkpoint of the default course (about 17 MB) is checksummed twice.
  return static_cast<std::uint32_t>(
      ::crc32_z(crc, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

std::uint64_t fnv1a64(std::string_view data, std::uint64_t h) {
  for (const char ch : data) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// ---- ByteWriter / ByteReader ----------------------------------------------------------------

void ByteWriter::u32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}
void ByteWriter::u64(std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}
void ByteWriter::f64(double v) {
  u64(std::bit_cast<std::uint64_t>(v));
}
void ByteWriter::str(std::string_view v) {
  u64(v.size());
  s_.append(v);
}
void ByteWriter::floats(std::span<const float> v) {
  u64(v.size());
  const std::size_t at = s_.size();
  s_.resize(at + 4 * v.size());
  char* out = s_.data() + at;
  for (const float f : v) {
    const std::uint32_t b = std::bit_cast<std::uint32_t>(f);
    for (int i = 0; i < 4; ++i) *out++ = static_cast<char>((b >> (8 * i)) & 0xFFu);
  }
}
void ByteWriter::f64s(std::span<const double> v) {
  u64(v.size());
  for (const double d : v) f64(d);
}

void ByteReader::fail(const std::string& what) const {
  damaged(file_, fmt::format("section '{}': {}", section_, what));
}

void ByteReader::need(std::size_t n) {
  if (n > left()) fail(fmt::format("truncated: {} more bytes needed, {} left", n, left()));
}

std::uint8_t ByteReader::u8() {
  need(1);
  return static_cast<std::uint8_t>(d_[pos_++]);
}
std::uint32_t ByteReader::u32() {
  need(4);
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(d_[pos_ + i])) << (8 * i);
  pos_ += 4;
  return v;
}
std::uint64_t ByteReader::u64() {
  need(8);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(d_[pos_ + i])) << (8 * i);
  pos_ += 8;
  return v;
}
double ByteReader::f64() {
  return std::bit_cast<double>(u64());
}
double ByteReader::finite(const char* what) {
  const double v = f64();
  if (!std::isfinite(v)) fail(fmt::format("{} is not a finite number", what));
  return v;
}
std::uint64_t ByteReader::count(std::uint64_t max, const char* what) {
  const std::uint64_t n = u64();
  if (n > max) fail(fmt::format("{} {} is more than the limit of {}", what, n, max));
  return n;
}
std::string ByteReader::str(std::size_t max_len) {
  const std::uint64_t n = count(max_len, "string length");
  need(static_cast<std::size_t>(n));
  std::string s(d_.substr(pos_, static_cast<std::size_t>(n)));
  pos_ += static_cast<std::size_t>(n);
  return s;
}
std::vector<float> ByteReader::floats() {
  const std::uint64_t n = u64();
  if (n > left() / 4)
    fail(fmt::format("truncated: {} float values announced, {} bytes left", n, left()));
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& f : v) f = std::bit_cast<float>(u32());
  return v;
}
std::vector<double> ByteReader::f64s() {
  const std::uint64_t n = u64();
  if (n > left() / 8) fail(fmt::format("truncated: {} values announced, {} bytes left", n, left()));
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& d : v) d = f64();
  return v;
}
void ByteReader::expect_end() {
  if (left() != 0) fail(fmt::format("{} unexpected bytes at the end", left()));
}

// ---- container ---------------------------------------------------------------------------------

const std::string& CheckpointFile::section(const std::string& name, const std::string& file) const {
  for (const auto& [n, payload] : sections) {
    if (n == name) return payload;
  }
  damaged(file, fmt::format("{} checkpoint has no section '{}'", kind, name));
}

std::string encode_checkpoint(const CheckpointFile& c) {
  if (c.kind.size() > kMaxKind || c.sections.size() > kMaxSections) {
    throw std::logic_error("internal: checkpoint kind or section count too large");
  }
  ByteWriter w;
  // The file's size known up front: one allocation, where growing by doubling held up to three
  // times the payload at once (the checkpoint of a run is every field of the grid).
  std::size_t size = kMagic.size() + 4 + 4 + c.kind.size() + 8 + 4 + 4 + kEnd.size();
  for (const auto& [name, payload] : c.sections) size += 4 + name.size() + 8 + 4 + payload.size();
  std::string out;
  out.reserve(size);
  out += kMagic;
  w.u32(kCheckpointFormat);
  w.u32(static_cast<std::uint32_t>(c.kind.size()));
  out += w.take();
  out += c.kind;
  w.u64(c.key);
  w.u32(static_cast<std::uint32_t>(c.sections.size()));
  out += w.take();
  for (const auto& [name, payload] : c.sections) {
    if (name.size() > kMaxName) throw std::logic_error("internal: checkpoint section name");
    w.u32(static_cast<std::uint32_t>(name.size()));
    out += w.take();
    out += name;
    w.u64(payload.size());
    w.u32(crc32(payload));
    out += w.take();
    out += payload;
  }
  w.u32(crc32(out));
  out += w.take();
  out += kEnd;
  return out;
}

CheckpointFile decode_checkpoint(std::string_view bytes, const std::string& file,
                                 bool verify_checksums) {
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic) {
    damaged(file, "not an mnsim checkpoint (bad magic)");
  }
  ByteReader r(bytes.substr(kMagic.size()), file, "header");
  const std::uint32_t version = r.u32();
  if (version != kCheckpointFormat) {
    damaged(file, fmt::format("checkpoint format version {}; this mnsim reads version {}", version,
                              kCheckpointFormat));
  }
  CheckpointFile c;
  const std::uint32_t kind_len = r.u32();
  if (kind_len > kMaxKind) r.fail(fmt::format("kind of {} bytes", kind_len));
  for (std::uint32_t i = 0; i < kind_len; ++i) c.kind.push_back(static_cast<char>(r.u8()));
  c.key = r.u64();
  const std::uint32_t n = r.u32();
  if (n > kMaxSections) r.fail(fmt::format("{} sections (at most {})", n, kMaxSections));
  for (std::uint32_t s = 0; s < n; ++s) {
    const std::uint32_t name_len = r.u32();
    if (name_len > kMaxName) r.fail(fmt::format("section name of {} bytes", name_len));
    std::string name;
    for (std::uint32_t i = 0; i < name_len; ++i) name.push_back(static_cast<char>(r.u8()));
    const std::uint64_t len = r.u64();
    const std::uint32_t crc = r.u32();
    if (len > r.left()) {
      damaged(file,
              fmt::format("truncated: section '{}' needs {} bytes, {} left", name, len, r.left()));
    }
    const std::size_t at = bytes.size() - r.left();
    std::string payload(bytes.substr(at, static_cast<std::size_t>(len)));
    r.skip(static_cast<std::size_t>(len));
    if (verify_checksums && crc32(payload) != crc) {
      damaged(file, fmt::format("section '{}' is corrupted (checksum mismatch)", name));
    }
    c.sections.emplace_back(std::move(name), std::move(payload));
  }
  const std::size_t body = bytes.size() - r.left();
  const std::uint32_t total = r.u32();
  if (verify_checksums && crc32(bytes.substr(0, body)) != total) {
    damaged(file, "corrupted (file checksum mismatch)");
  }
  if (r.left() < kEnd.size()) damaged(file, "truncated: no end mark");
  std::string end;
  for (std::size_t i = 0; i < kEnd.size(); ++i) end.push_back(static_cast<char>(r.u8()));
  if (end != kEnd) damaged(file, "corrupted (bad end mark)");
  if (r.left() != 0) damaged(file, fmt::format("{} bytes after the end mark", r.left()));
  return c;
}

CheckpointFile read_checkpoint(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) damaged(name, "no such checkpoint file");
  const InputFile in = open_input_file(path, "(checkpoint)", "an mnsim checkpoint file");
  if (in.size() > kMaxCheckpointBytes) {
    damaged(name, fmt::format("file of {:.1f} GiB", static_cast<double>(in.size()) / (1 << 30)));
  }
  return decode_checkpoint(in.read_all(kMaxCheckpointBytes), name);
}

void write_checkpoint(const fs::path& path, const CheckpointFile& c) {
  double pause = 0.0;
  if (const char* e = std::getenv("MNSIM_TEST_PAUSE_IN_CHECKPOINT"); e && *e) {
    pause = std::strtod(e, nullptr);
    if (!(pause > 0.0 && pause < 60.0)) pause = 0.0;
  }
  write_file_atomic(path, encode_checkpoint(c), pause);
}

}  // namespace mnsim::io
