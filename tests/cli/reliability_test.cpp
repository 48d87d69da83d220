// Stopping a run with SIGTERM/SIGINT (a checkpoint, then exit 143/130), and refusing grids that
// would not fit in memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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
                        "(20000 x 20000 x 289) would need about ",
                        0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find(" GiB of memory; this machine has "), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o"));
  fs::remove_all(dir);
}

/// Runs mnsim in `cwd` under an address-space limit (RLIMIT_AS, as `ulimit -v`); 0: none.
/// Returns the exit code, stderr and the child's peak resident memory (bytes).
struct Limited {
  int exit_code = -1;
  std::string err;
  double peak_rss = 0.0;
};
[[maybe_unused]] Limited run_limited(const std::vector<std::string>& args, const fs::path& cwd,
                                     double limit) {
  const fs::path err = cwd / "limited.err";
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(127);
    if (limit > 0) {
      const rlimit rl{static_cast<rlim_t>(limit), static_cast<rlim_t>(limit)};
      if (::setrlimit(RLIMIT_AS, &rl) != 0) ::_exit(126);
    }
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 1);
    ::dup2(null, 0);
    std::vector<char*> argv{const_cast<char*>(MNSIM_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(MNSIM_BINARY, argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  Limited l;
  l.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  l.err = mnsim::test::slurp(err);
  l.peak_rss = static_cast<double>(ru.ru_maxrss) * 1024.0;
  return l;
}

// Under `ulimit -v 3000000` a 4 cm x 4 cm patch at 50 um ended in "internal error:
// std::bad_alloc" (exit 1): the address-space limit is now one of the limits the estimate is
// held against, and the refusal is at tissue.resolution with the estimate and the limit.
TEST(Reliability, AnAddressSpaceLimitIsRespected) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space";
#else
  const fs::path dir = fs::temp_directory_path() / ("mnsim_ulimit_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "big.toml") << "[tissue]\nwidth = \"4 cm\"\nlength = \"4 cm\"\n"
                                     "resolution = \"50 um\"\n";
  const double limit = 3000000.0 * 1024;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"check", "big.toml"}, {"run", "big.toml", "--out", "o"}}) {
    const std::string& cmd = args[0];
    const Limited r = run_limited(args, dir, limit);
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_EQ(r.err.rfind("error: big.toml:4:14: tissue.resolution: the grid of 2.05e+07 cells "
                          "(800 x 800 x 32) would need about ",
                          0),
              0u)
        << r.err;
    EXPECT_NE(r.err.find(" GiB of memory; the address-space limit (ulimit -v) of 2.86 GiB leaves "),
              std::string::npos)
        << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir / "o"));
  // A patch that fits runs under the same limit.
  std::ofstream(dir / "small.toml") << "[tissue]\nwidth = \"2 mm\"\nlength = \"2 mm\"\n"
                                       "[course]\nsessions = 1\nfollow_up = \"1 day\"\n";
  const Limited ok = run_limited({"run", "small.toml", "--out", "s", "--quiet"}, dir, limit);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  fs::remove_all(dir);
#endif
}

// The estimate is the measured peak or more (it is what the refusal trusts), and not wildly
// more (a refusal of a run that fits is a defect too): examples/01's patch, one session.
TEST(Reliability, TheMemoryEstimateCoversTheMeasuredPeak) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "memory under AddressSanitizer is not the release build's";
#else
  const fs::path dir = fs::temp_directory_path() / ("mnsim_mem_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "m.toml") << "[tissue]\nwidth = \"1 cm\"\nlength = \"1 cm\"\n"
                                   "resolution = \"100 um\"\n"
                                   "[course]\nsessions = 1\nfollow_up = \"3 hours\"\n"
                                   "[output]\nsnapshot_every = \"1 hour\"\n";
  const auto c = mnsim::test::run_cli({"check", "m.toml"}, dir.string());
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const std::size_t at = c.out.find("needs about ");
  ASSERT_NE(at, std::string::npos) << c.out;
  const double estimate = std::stod(c.out.substr(at + 12)) * (1 << 20);
  const Limited r = run_limited({"run", "m.toml", "--out", "o", "--quiet", "-j", "2"}, dir, 0);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::fprintf(stderr, "estimate %.0f MiB, measured peak %.0f MiB\n", estimate / (1 << 20),
               r.peak_rss / (1 << 20));
  EXPECT_GE(estimate, r.peak_rss);
  EXPECT_LE(estimate, 2.0 * r.peak_rss);
  fs::remove_all(dir);
#endif
}

}  // namespace
