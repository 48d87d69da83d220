// Errors that cross the library boundary.
//
// InputError  - a user mistake (scenario, data file, image, CLI flag). The CLI prints exactly
//               one line "error: FILE:LINE:COL: KEY: what (expected)" and exits with code 2.
// NumericalError - the simulation failed numerically (NaN, negative density, step collapse):
//               exit code 1, with field, position and simulated time in the message.
// Anything else escaping the library is an internal error (exit code 1).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace mnsim {

/// Where a value came from: a file and a 1-based line/column (0 = unknown).
struct SourceLoc {
  std::string file;
  int line = 0;
  int col = 0;
};

/// `text` made safe for a one-line message on a terminal: line breaks and tabs become spaces,
/// every other control byte, DEL and any byte that is not part of valid UTF-8 is written as \xNN
/// (a PNG signature reads "\x89PNG"). Printable ASCII and valid UTF-8 ("µm", "°") are kept.
std::string printable(std::string_view text);

class InputError : public std::runtime_error {
 public:
  InputError(SourceLoc loc, std::string key, std::string what, std::string expected = {});

  const SourceLoc& loc() const { return loc_; }
  const std::string& key() const { return key_; }
  const std::string& problem() const { return problem_; }
  const std::string& expected() const { return expected_; }

  /// The one-line message, without the "error: " prefix.
  std::string line() const;

 private:
  SourceLoc loc_;
  std::string key_;
  std::string problem_;
  std::string expected_;
};

class NumericalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An output could not be written (full disk, permissions): exit code 1.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace mnsim
