// Stopping a run with SIGTERM/SIGINT (a checkpoint, then exit 143/130), and refusing grids that
// would not fit in memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;

namespace {

struct Stopped {
  int exit_code = -1;
  std::string err;
};

Stopped run_and_signal(const fs::path& out, int sig) {
  const fs::path err_file = out.string() + ".err";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 1);
    ::dup2(null, 0);
    const std::string ex = std::string(MNSIM_SOURCE_DIR) + "/examples/01_default_cheek.toml";
    ::execl(MNSIM_BINARY, MNSIM_BINARY, "run", ex.c_str(), "--out", out.c_str(), "--force",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until the healing stage has started (the first session is logged), then signal.
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (mnsim::test::slurp(err_file).find("session 1 of") != std::string::npos) break;
  }
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  Stopped s;
  s.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  s.err = mnsim::test::slurp(err_file);
  return s;
}

TEST(Reliability, SigtermAndSigintStopCleanlyWithTheirExitCodes) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_sig_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& [sig, code, name] :
       {std::tuple{SIGTERM, 143, "SIGTERM"}, std::tuple{SIGINT, 130, "SIGINT"}}) {
    const fs::path out = dir / name;
    const Stopped s = run_and_signal(out, sig);
    EXPECT_EQ(s.exit_code, code) << s.err;
    EXPECT_NE(s.err.find(std::string("error: interrupted by ") + name), std::string::npos) << s.err;
    // A checkpoint, and how to continue from it.
    EXPECT_NE(s.err.find("checkpoint saved in " + (out / "checkpoint").string()), std::string::npos)
        << s.err;
    EXPECT_NE(s.err.find("; resume with: mnsim run "), std::string::npos) << s.err;
    EXPECT_TRUE(fs::exists(out / "checkpoint" / "run.ckpt"));
    // Nothing half-written is left looking complete.
    for (const char* f : {"summary.json", "fields.h5", "report.html", "timeseries.csv"}) {
      EXPECT_FALSE(fs::exists(out / f)) << f;
    }
    for (const auto& e : fs::directory_iterator(out)) {
      EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
    }
  }
  fs::remove_all(dir);
}

TEST(Reliability, GridsThatDoNotFitInMemoryAreRefusedUpFront) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_huge_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "huge.toml") << "[tissue]\nwidth = \"10 cm\"\nlength = \"10 cm\"\n"
                                      "resolution = \"5 um\"\n";
  const auto r = mnsim::test::run_cli({"run", "huge.toml", "--out", "o"}, dir.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: huge.toml:4:14: tissue.resolution: the grid of 1.16e+11 cells "
                        "(20000 x 20000 x 289) would need 23803.8 GiB of memory; this machine has ",
                        0),
            0u)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "o"));
  fs::remove_all(dir);
}

}  // namespace
