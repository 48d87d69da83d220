// Checkpoint files: a small versioned, checksummed binary container (docs/reliability.md).
//
// Layout (all integers little-endian):
//   "MNSIMCKP"                      8-byte magic
//   u32 format version              kCheckpointFormat
//   u32 n, n bytes                  kind ("run", "snapshot", ...; at most 32 bytes)
//   u64 key                         what the checkpoint belongs to (scenario + build hash)
//   u32 section count               at most kMaxSections
//   per section: u32 n, n bytes name (at most 64), u64 payload length, u32 CRC-32 of the
//                payload, the payload
//   u32 CRC-32 of every byte above
//   "MNSIMEND"                      8-byte end mark
// A truncated, padded or corrupted file, a wrong magic or version: InputError naming the file
// (exit 2). Payloads are encoded with ByteWriter and decoded with ByteReader, which checks every
// length against what is left, so no input can make the reader read out of bounds or allocate
// more than the file holds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mnsim::io {

inline constexpr std::uint32_t kCheckpointFormat = 1;
inline constexpr std::size_t kMaxSections = 64;
/// Largest checkpoint file read (a hostile file must never exhaust memory).
inline constexpr std::size_t kMaxCheckpointBytes = std::size_t{16} << 30;

/// CRC-32 (IEEE 802.3, reflected, as zlib's crc32), continued from `crc`.
std::uint32_t crc32(std::string_view data, std::uint32_t crc = 0);
/// FNV-1a 64-bit hash, continued from `h`.
std::uint64_t fnv1a64(std::string_view data, std::uint64_t h = 0xcbf29ce484222325ULL);

/// Appends little-endian binary values to a string.
class ByteWriter {
 public:
  void u8(std::uint8_t v) { s_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v);
  /// u64 length, then the bytes.
  void str(std::string_view v);
  /// u64 count, then the float32 values.
  void floats(std::span<const float> v);
  void f64s(std::span<const double> v);
  /// Room for n more bytes (one allocation for a large payload written piece by piece).
  void reserve(std::size_t n) { s_.reserve(s_.size() + n); }
  const std::string& bytes() const { return s_; }
  std::string take() { return std::move(s_); }

 private:
  std::string s_;
};

/// Reads what ByteWriter wrote; any read past the end is an InputError naming `file` and
/// `section`.
class ByteReader {
 public:
  ByteReader(std::string_view data, std::string file, std::string section)
      : d_(data), file_(std::move(file)), section_(std::move(section)) {}
  std::uint8_t u8();
  std::uint32_t u32();
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64();
  /// A finite double (NaN and infinities are refused with `what` in the message).
  double finite(const char* what);
  /// A string of at most max_len bytes.
  std::string str(std::size_t max_len);
  std::vector<float> floats();
  std::vector<double> f64s();
  /// A count of at most max (refused otherwise).
  std::uint64_t count(std::uint64_t max, const char* what);
  std::size_t left() const { return d_.size() - pos_; }
  void skip(std::size_t n) {
    need(n);
    pos_ += n;
  }
  /// Refuses trailing bytes.
  void expect_end();
  /// An InputError about this section: "what (expected)".
  [[noreturn]] void fail(const std::string& what) const;

 private:
  void need(std::size_t n);
  std::string_view d_;
  std::size_t pos_ = 0;
  std::string file_, section_;
};

struct CheckpointFile {
  std::string kind;
  std::uint64_t key = 0;
  std::vector<std::pair<std::string, std::string>> sections;

  /// The payload of a named section; InputError naming `file` if it is missing.
  const std::string& section(const std::string& name, const std::string& file) const;
};

/// The file's bytes.
std::string encode_checkpoint(const CheckpointFile& c);
/// Parses and verifies (magic, version, lengths, checksums). `file` names the source in errors.
/// `verify_checksums` = false skips the CRC comparisons (fuzzing the decoders behind them).
CheckpointFile decode_checkpoint(std::string_view bytes, const std::string& file,
                                 bool verify_checksums = true);

/// Reads and decodes a checkpoint file. InputError if it is missing, unreadable or damaged.
CheckpointFile read_checkpoint(const std::filesystem::path& path);
/// Writes a checkpoint atomically (write_file_atomic): the previous file at `path` stays intact
/// until the new one is complete. Honours MNSIM_TEST_PAUSE_IN_CHECKPOINT (seconds: the writer
/// sleeps after half of the bytes, for tests that kill it mid-write). Throws OutputError.
void write_checkpoint(const std::filesystem::path& path, const CheckpointFile& c);

}  // namespace mnsim::io
