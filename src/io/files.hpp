// Writing results safely: every file is written to a temporary name in the same folder,
// flushed to disk and renamed, so no reader ever sees a half-written file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace mnsim::io {

/// Writes `content` to `path` atomically (temporary file, fsync, rename, fsync of the folder):
/// the previous file at `path`, if any, stays intact until the new one is complete. Throws
/// OutputError (a failed write leaves no temporary file behind).
/// Test hooks (environment): MNSIM_TEST_FAIL_WRITE_AFTER_BYTES=N makes every write fail with
/// ENOSPC once N bytes of that file are written (a full disk), only the files named
/// MNSIM_TEST_FAIL_WRITE_NAME if that is set (one writer at a time); `pause_mid_write_s` > 0 sleeps
/// after half of the bytes (tests that kill the writer mid-write).
void write_file_atomic(const std::filesystem::path& path, std::string_view content,
                       double pause_mid_write_s = 0.0);

/// Removes temporary files left by writers that were killed (".NAME.tmp.XXXXXXXX") in `dir`.
void remove_stale_temporaries(const std::filesystem::path& dir);

/// Reads a whole small text file; throws InputError naming the file on failure.
std::string read_text_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace mnsim::io
