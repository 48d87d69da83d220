// libFuzzer target: the checkpoint readers (io/checkpoint.hpp container, the run state and
// snapshot decoders of run/checkpoint.hpp, the cohort's patient records). The first byte picks
// the decoder and whether checksums are verified: without verification the decoders behind the
// CRCs see arbitrary section payloads too. Any input must decode or raise mnsim::InputError with
// a one-line message; anything else (crash, other exception, sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "io/checkpoint.hpp"
#include "protocol/cohort.hpp"
#include "run/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned mode = data[0] % 4u;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (mode == 3) {
      // Patient records: the key and size of a cohort are what the header must match; read
      // them from the header itself when present so the record decoder is reached.
      std::uint64_t key = 0, n = 0;
      if (bytes.size() >= 32) {
        mnsim::io::ByteReader h(std::string_view(bytes).substr(12, 16), "f", "h");
        key = h.u64();
        n = h.u64();
      }
      std::size_t valid = 0;
      const auto recs = mnsim::protocol::decode_patient_records(bytes, "fuzz.rec", key, n, &valid);
      if (valid > bytes.size()) __builtin_trap();
      for (const auto& r : recs) {
        if (r.index >= n) __builtin_trap();
      }
    } else {
      const mnsim::io::CheckpointFile c =
          mnsim::io::decode_checkpoint(bytes, "fuzz.ckpt", /*verify_checksums=*/mode != 0);
      if (c.kind == "snapshot") {
        (void)mnsim::decode_snapshot(c, "fuzz.ckpt");
      } else {
        const mnsim::RunState s = mnsim::decode_run_state(c, "fuzz.ckpt");
        for (const auto& f : s.fields) {
          if (f.size() != s.padded) __builtin_trap();
        }
      }
      // Encoding what was decoded gives a file that decodes again.
      (void)mnsim::io::decode_checkpoint(mnsim::io::encode_checkpoint(c), "again.ckpt");
    }
  } catch (const mnsim::InputError& e) {
    if (std::string(e.what()).find('\n') != std::string::npos) __builtin_trap();
  }
  return 0;
}
