// Output folders: what a run killed at its very start leaves behind must not block the retry.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>
#include <filesystem>

#include <fstream>

#include "core/error.hpp"
#include "io/files.hpp"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const char* name) {
  const fs::path d = fs::temp_directory_path() / fmt::format("mnsim_files_{}_{}", name, ::getpid());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(OutputDir, FolderHoldingOnlyAStaleMarkerTemporaryIsNew) {
  const fs::path d = fresh_dir("stale");
  std::ofstream(d / "..mnsim-output.tmp.0badf00d") << "mnsim out";  // killed mid-write
  EXPECT_EQ(mnsim::io::prepare_output_dir(d, false), mnsim::io::OutDirState::Empty);
  EXPECT_TRUE(fs::exists(d / mnsim::io::kOutputMarker));
  EXPECT_FALSE(fs::exists(d / "..mnsim-output.tmp.0badf00d"));
  fs::remove_all(d);
}

TEST(OutputDir, ForeignFilesStillRefused) {
  const fs::path d = fresh_dir("foreign");
  std::ofstream(d / "..mnsim-output.tmp.0badf00d") << "mnsim out";
  std::ofstream(d / "thesis.docx") << "precious";
  EXPECT_THROW(mnsim::io::prepare_output_dir(d, false), mnsim::InputError);
  EXPECT_TRUE(fs::exists(d / "thesis.docx"));
  EXPECT_TRUE(fs::exists(d / "..mnsim-output.tmp.0badf00d"));
  fs::remove_all(d);
}

}  // namespace
