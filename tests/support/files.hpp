// Small file helpers shared by the tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

namespace mnsim::test {

/// The whole file as bytes; empty when it cannot be opened.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// Writes `text` to `name` in the temporary folder (replacing it) and returns its path.
inline std::string write_temp_file(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p.string();
}

/// An empty folder `name`_<pid> in the temporary folder (removed first if it exists).
inline std::filesystem::path fresh_temp_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace mnsim::test

namespace mnsim::test {

/// The lines of `test_file` (under tests/) between "// BEGIN <tag>" and "// END <tag>"; empty
/// when the markers are missing.
inline std::string marked_code(const std::string& test_file, const std::string& tag) {
  const std::string self = slurp(std::filesystem::path(MNSIM_TEST_DIR) / test_file);
  const std::string begin = "// BEGIN " + tag + "\n", end = "// END " + tag + "\n";
  const std::size_t i = self.find(begin), j = self.find(end);
  if (i == std::string::npos || j == std::string::npos || j < i) return {};
  return self.substr(i + begin.size(), j - i - begin.size());
}

/// Whether docs/<doc> shows `code` as one C++ block, line for line.
inline bool doc_shows(const std::string& doc, const std::string& code) {
  const std::string text =
      slurp(std::filesystem::path(MNSIM_TEST_DIR).parent_path() / "docs" / doc);
  return !code.empty() && text.find("```cpp\n" + code + "```") != std::string::npos;
}

}  // namespace mnsim::test
