// io::open_input_file: only regular files are read, and opening never blocks.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/files.hpp"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir() {
  const fs::path d = fs::temp_directory_path() / fmt::format("mnsim_input_files_{}", ::getpid());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string error_of(const fs::path& p, std::size_t max = 1000) {
  try {
    mnsim::io::read_text_file(p, max, "a test file");
  } catch (const mnsim::InputError& e) {
    return e.line();
  }
  return "(no error)";
}

TEST(InputFile, RegularFileAndLinkToItAreRead) {
  const fs::path d = fresh_dir();
  std::ofstream(d / "a.toml") << "x = 1\n";
  fs::create_symlink(d / "a.toml", d / "link.toml");
  EXPECT_EQ(mnsim::io::read_text_file(d / "a.toml", 100, "a test file"), "x = 1\n");
  EXPECT_EQ(mnsim::io::read_text_file(d / "link.toml", 100, "a test file"), "x = 1\n");
  const auto f = mnsim::io::open_input_file(d / "a.toml", "k", "a test file");
  EXPECT_EQ(f.size(), 6u);
  EXPECT_EQ(::fcntl(f.fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  fs::remove_all(d);
}

TEST(InputFile, FifoIsRefusedWithoutBlocking) {
  const fs::path d = fresh_dir();
  ASSERT_EQ(::mkfifo((d / "f.toml").c_str(), 0644), 0);
  ASSERT_EQ(::symlink((d / "f.toml").c_str(), (d / "l.toml").c_str()), 0);
  // No writer ever opens the FIFO: a blocking open would hang this test.
  EXPECT_EQ(error_of(d / "f.toml"),
            (d / "f.toml").string() +
                ":1:1: (file): is a named pipe (FIFO), not a regular file (a test file)");
  EXPECT_EQ(error_of(d / "l.toml"),
            (d / "l.toml").string() +
                ":1:1: (file): is a named pipe (FIFO), not a regular file (a test file)");
  fs::remove_all(d);
}

TEST(InputFile, DevicesAndFoldersAreRefused) {
  EXPECT_EQ(error_of("/dev/zero"),
            "/dev/zero:1:1: (file): is a character device, not a regular file (a test file)");
  EXPECT_EQ(error_of("/dev/null"),
            "/dev/null:1:1: (file): is a character device, not a regular file (a test file)");
  EXPECT_EQ(error_of("/"), "/:1:1: (file): is a directory, not a regular file (a test file)");
  try {
    mnsim::io::open_input_file("/dev/zero", "surface.file", "a height map");
    ADD_FAILURE() << "no error";
  } catch (const mnsim::InputError& e) {
    EXPECT_EQ(e.key(), "surface.file");
  }
}

TEST(InputFile, MissingAndTooLargeFiles) {
  const fs::path d = fresh_dir();
  EXPECT_EQ(error_of(d / "none.toml"),
            (d / "none.toml").string() +
                ":1:1: (file): cannot open file: No such file or directory (a readable file)");
  std::ofstream(d / "big.toml") << std::string(2u << 20, 'x');
  EXPECT_EQ(error_of(d / "big.toml", 1u << 20),
            (d / "big.toml").string() + ":1:1: (file): file is 2.0 MiB (at most 1.0 MiB)");
  fs::remove_all(d);
}

}  // namespace
