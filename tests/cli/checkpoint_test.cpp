// Checkpoint and resume through the real binary: a run killed with SIGKILL at random moments
// (once in the middle of a checkpoint write) and resumed each time ends with the same outputs,
// byte for byte, as an uninterrupted run; a full disk is a one-line error that keeps the previous
// checkpoint; damaged or foreign checkpoints are refused with exit 2.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "io/checkpoint.hpp"
#include "io/fields_h5.hpp"
#include "io/output_folder.hpp"
#include "run/checkpoint.hpp"
#include "support/files.hpp"
#include "support/run_cli.hpp"
#include "support/sanitizer.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using mnsim::test::slurp;

namespace {

// Two pen sessions three weeks apart on a 3 mm x 3 mm patch with a boxcar, an icepick and a
// tethered rolling scar, 150 um voxels, followed for four months (about 2 s in release): the
// scars' matrix is degraded and their deficit filled over the course, the rolling scar's band cut
// by each session and re-formed between them (scars.csv band_intact), all of it state the
// checkpoint must carry; tranexamic
// acid and PRP after each session (the films on the skin, their records and the channels are
// state too: a kill in the hours after a session lands while the film is wet). Snapshots
// before and after each session, every four weeks and at the end: 9.
const char* kScenario =
    "title = \"kill and resume\"\nseed = 11\n"
    "[patient]\nsite = \"forehead\"\n"
    "[tissue]\nwidth = \"3 mm\"\nlength = \"3 mm\"\nresolution = \"150 um\"\n"
    "[[lesions]]\nkind = \"boxcar\"\nx = \"1 mm\"\ny = \"1.5 mm\"\nwidth = \"1.2 mm\"\n"
    "depth = \"0.25 mm\"\n"
    "[[lesions]]\nkind = \"icepick\"\nx = \"2.2 mm\"\ny = \"1.5 mm\"\nwidth = \"0.6 mm\"\n"
    "depth = \"0.5 mm\"\n"
    "[[lesions]]\nkind = \"rolling\"\nx = \"2.4 mm\"\ny = \"0.5 mm\"\nwidth = \"0.8 mm\"\n"
    "depth = \"0.1 mm\"\n"
    "[device]\nkind = \"pen\"\nmodel = \"dermapen_2012\"\ndepth = \"0.5 mm\"\n"
    "[technique]\npasses = 2\n"
    "[course]\nsessions = 2\ninterval = \"3 weeks\"\nfollow_up = \"4 months\"\n"
    "[[application]]\nagent = \"tranexamic_acid\"\nconcentration = \"50 mg/mL\"\n"
    "contact = \"12 hours\"\n"
    "[[application]]\nagent = \"prp\"\nvehicle = \"plasma\"\ndelay = \"30 min\"\n"
    "[output]\nsnapshot_every = \"4 weeks\"\n";
constexpr int kSnapshots = 9;

struct Child {
  pid_t pid = -1;
  fs::path err;
};

/// Starts mnsim with extra environment variables; stderr goes to `err`. `as_nobody`: when
/// running as root, the child drops to uid/gid 65534 so file permissions apply to it.
Child spawn(const std::vector<std::string>& args, const fs::path& err,
            const std::vector<std::pair<std::string, std::string>>& env = {},
            bool as_nobody = false) {
  Child c;
  c.err = err;
  c.pid = ::fork();
  if (c.pid == 0) {
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 1);
    ::dup2(null, 0);
    if (as_nobody && ::geteuid() == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
        ::_exit(126);
      }
    }
    std::vector<char*> argv{const_cast<char*>(MNSIM_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(MNSIM_BINARY, argv.data());
    ::_exit(127);
  }
  return c;
}

/// Exit code, or 128 + signal.
int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// A run's stderr from its "error: " on (empty when it has none): what the one-line checks read,
/// past the progress lines a run may print before failing.
std::string error_line(const std::string& msg) {
  const std::size_t at = msg.find("error: ");
  return at == std::string::npos ? std::string() : msg.substr(at);
}

bool has_temporary(const fs::path& dir, const std::string& prefix) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) return true;
  }
  return false;
}

/// Everything a run produces that must not depend on interruptions: summary.json without its
/// wall-clock metadata (run.started_utc, run.wall_time_s,
/// punctures_first_session.generation_wall_s), timeseries.csv, scars.csv, punctures.csv, the
/// snapshot list (fields.xmf: times, labels, fields) and every stored value of every field of
/// fields.h5 (`snapshots` of them).
std::string results(const fs::path& out, int expected_snapshots = kSnapshots) {
  std::string r;
  auto summary = nlohmann::json::parse(slurp(out / "summary.json"));
  summary["run"].erase("started_utc");
  summary["run"].erase("wall_time_s");
  summary["punctures_first_session"].erase("generation_wall_s");
  r += summary.dump(1) + "\n";
  r += slurp(out / "timeseries.csv");
  r += slurp(out / "scars.csv");
  r += slurp(out / "punctures.csv");
  const std::string xmf = slurp(out / "fields.xmf");
  r += xmf;
  int snapshots = 0;
  for (std::size_t at = xmf.find("<Time "); at != std::string::npos;
       at = xmf.find("<Time ", at + 1)) {
    ++snapshots;
  }
  EXPECT_EQ(snapshots, expected_snapshots) << out;
  // The fields of the first snapshot (every snapshot holds the same ones): its attributes that
  // point into /snapshots (not the layer mask in /grid, nor the field data).
  std::vector<std::string> fields;
  const std::size_t first_end = xmf.find("</Grid>");
  for (std::size_t at = xmf.find("<Attribute Name=\""); at < first_end;
       at = xmf.find("<Attribute Name=\"", at + 1)) {
    const std::size_t from = at + 17;
    if (xmf.find("/snapshots/", at) < xmf.find("</Attribute>", at)) {
      fields.push_back(xmf.substr(from, xmf.find('"', from) - from));
    }
  }
  EXPECT_GE(fields.size(), 8u) << out;
  for (int s = 0; s < snapshots; ++s) {
    for (const auto& f : fields) {
      const std::vector<float> v = mnsim::io::read_snapshot_field(out / "fields.h5", s, f);
      r.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
    }
  }
  return r;
}

/// What a reader of the folder may see at any moment: no results before they are complete,
/// never a report without its summary (the summary is installed first, the report last).
void expect_consistent_folder(const fs::path& out, const std::string& when) {
  const std::string state = mnsim::io::output_state(out);
  if (fs::exists(out / "report.html")) {
    for (const char* e : {"summary.json", "scenario.resolved.toml", "timeseries.csv", "scars.csv",
                          "punctures.csv", "fields.h5", "fields.xmf", "figures"}) {
      EXPECT_TRUE(fs::exists(out / e)) << when << ": report.html without " << e;
    }
  }
  if (state == "empty" || state == "none") {
    for (const char* e : {"summary.json", "report.html", "fields.h5", "timeseries.csv"}) {
      EXPECT_FALSE(fs::exists(out / e)) << when << ": " << e << " before the results are complete";
    }
  }
  if (state == "complete") {
    EXPECT_TRUE(fs::exists(out / "report.html")) << when;
  }
}

std::string fmt_name(int round, char kind) {
  return "round" + std::to_string(round) + "_" + kind + ".err";
}

/// Runs `scenario` until SIGTERM right after its first session: leaves a checkpoint in `out`.
void interrupt_after_first_session(const std::string& scenario, const fs::path& out) {
  const fs::path err = out.string() + ".err";
  const Child c = spawn({"run", scenario, "--out", out.string(), "--threads", "2"}, err);
  for (int i = 0; i < 3000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (slurp(err).find("session 1 of") != std::string::npos) break;
  }
  ::kill(c.pid, SIGTERM);
  const int code = wait_for(c.pid);
  const std::string msg = slurp(err);
  ASSERT_EQ(code, 143) << msg;
  EXPECT_NE(msg.find("error: interrupted by SIGTERM: stopped at simulated day "), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("resume with: mnsim run " + scenario + " --resume " + out.string()),
            std::string::npos)
      << msg;
  ASSERT_TRUE(fs::exists(out / "checkpoint" / "run.ckpt"));
  EXPECT_FALSE(fs::exists(out / "summary.json"));
}

class Checkpoint : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("mnsim_ckpt_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    scenario_ = (dir_ / "s.toml").string();
    std::ofstream(scenario_) << kScenario;
    reference_.reset();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  /// The results of the uninterrupted run, made on first use (each test is a process of its
  /// own under ctest: the tests that do not compare against it do not pay for it).
  static const std::string& reference() {
    if (!reference_) {
      const auto t0 = Clock::now();
      const auto r = mnsim::test::run_cli(
          {"run", scenario_, "--out", (dir_ / "ref").string(), "--quiet", "--threads", "2"});
      ref_seconds_ = std::chrono::duration<double>(Clock::now() - t0).count();
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_FALSE(fs::exists(dir_ / "ref" / "checkpoint"));  // removed once the run completes
      reference_ = r.exit_code == 0 ? results(dir_ / "ref") : std::string("(no reference)");
    }
    return *reference_;
  }

  /// Runs until SIGTERM after the first session: leaves a checkpoint in `out`.
  static void interrupted_run(const fs::path& out) {
    interrupt_after_first_session(scenario_, out);
  }

  static inline fs::path dir_;
  static inline std::string scenario_;
  static inline std::optional<std::string> reference_;
  static inline double ref_seconds_ = 0.0;
};

/// Waits (polling) until `ready` or about `seconds` have passed; returns whether it got ready.
template <class F>
bool wait_until(F ready, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return ready();
}

// Rounds of kills, each in a fresh folder: SIGKILL at three random moments after a checkpoint,
// one inside a checkpoint write, one inside the writing of the results (alternately while they
// are staged and while they are installed), each attempt resuming the last; then a last resume
// completes the round and its results must be byte for byte those of the uninterrupted run.
// At least 25 kills in all. After every kill the folder must be consistent. Under the
// sanitizers (support/sanitizer.hpp) at least 8 kills, every kind of kill and of resume at least
// once: the same code paths, fewer repetitions of them (the release run makes all 25). Each
// threshold is at most the release one, so a round never has to place more than before.
TEST_F(Checkpoint, KilledAtRandomMomentsAndResumedGivesIdenticalResults) {
  struct Needed {
    int kills, random, checkpoint, output, staging, install, resumed;
  };
  // Up to 12 rounds in both builds: a kill meant for the installation can land while the results
  // are still staged (a slow or loaded machine), and the rounds go on until each kind is placed.
  const Needed need =
      mnsim::test::kSanitizerBuild ? Needed{8, 4, 2, 2, 1, 1, 4} : Needed{25, 15, 5, 5, 2, 2, 10};
  const std::string& ref = reference();  // also measures ref_seconds_, which the kills use
  std::mt19937 rng(20261206);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int random_kills = 0, checkpoint_kills = 0, staging_kills = 0, install_kills = 0, resumed = 0;
  int rounds = 0;
  const double pause = 0.25;  // MNSIM_TEST_PAUSE_IN_OUTPUT: after each staged file, each step
  for (int round = 0; round < 12; ++round) {
    if (random_kills >= need.random && checkpoint_kills >= need.checkpoint &&
        staging_kills + install_kills >= need.output && staging_kills >= need.staging &&
        install_kills >= need.install) {
      break;
    }
    ++rounds;
    const fs::path out = dir_ / ("killed" + std::to_string(round));
    const fs::path ckpt = out / "checkpoint" / "run.ckpt";
    bool finished = false;
    // The plan of one round: 'r' random, 'c' inside a checkpoint write, 'o' inside the results.
    for (const char kind : std::string("rrcro")) {
      if (finished) break;
      const fs::path err = dir_ / fmt_name(round, kind);
      std::error_code ec;
      const auto ckpt_before =
          fs::exists(ckpt) ? fs::last_write_time(ckpt, ec) : fs::file_time_type::min();
      std::vector<std::pair<std::string, std::string>> env;
      if (kind == 'c') env.emplace_back("MNSIM_TEST_PAUSE_IN_CHECKPOINT", "3");
      if (kind == 'o') env.emplace_back("MNSIM_TEST_PAUSE_IN_OUTPUT", std::to_string(pause));
      const Child c = spawn({"run", scenario_, "--resume", out.string(), "--checkpoint-every",
                             "50 ms", "--threads", "2"},
                            err, env);
      bool placed = false;
      bool installing = false;
      if (kind == 'c') {
        // Only once a complete checkpoint exists (it must survive the kill): the child pauses
        // in the middle of every checkpoint or snapshot file it writes.
        if (fs::exists(ckpt)) {
          placed = wait_until([&] { return has_temporary(out / "checkpoint", "."); }, 120);
        }
      } else if (kind == 'o') {
        // The results are staged (six pauses: report, fields, time series, punctures, resolved
        // scenario, summary), committed and installed (marker, removal, eight moves): a random
        // moment in the first part on even rounds, in the second part on odd ones, counted from
        // the commit record (where the writing is slow, as under the sanitizers or load, a time
        // counted from the staged report landed in the staging too).
        const fs::path from = out / ".staging" / (round % 2 == 0 ? "report.html" : ".commit");
        if (wait_until([&] { return fs::exists(from); }, 300)) {
          const double at = (round % 2 == 0 ? 5.5 : 9.0) * unit(rng) * pause;
          std::this_thread::sleep_for(std::chrono::duration<double>(at));
          placed = true;
        }
      } else {
        // A random moment after this child's first checkpoint: under load a fixed delay could
        // land every kill before any checkpoint, and no attempt would resume.
        wait_until(
            [&] {
              return (fs::exists(ckpt) && fs::last_write_time(ckpt, ec) > ckpt_before && !ec) ||
                     fs::exists(out / "summary.json");
            },
            300);
        std::this_thread::sleep_for(std::chrono::duration<double>(unit(rng) * 0.3 * ref_seconds_));
        placed = true;
      }
      installing = fs::exists(out / ".staging" / ".commit");
      ::kill(c.pid, SIGKILL);
      const int code = wait_for(c.pid);
      const std::string log = slurp(err);
      if (log.find("resuming from the checkpoint at simulated day") != std::string::npos) {
        ++resumed;
      }
      const std::string when = fmt_name(round, kind);
      if (code == 0) {
        finished = true;  // finished before the kill
        continue;
      }
      ASSERT_EQ(code, 128 + SIGKILL) << when << "\n" << log;
      expect_consistent_folder(out, when);
      // What a kill leaves: the last complete checkpoint (if any), never a torn one.
      if (fs::exists(ckpt)) {
        EXPECT_NO_THROW(mnsim::io::read_checkpoint(ckpt)) << when;
      }
      if (!placed) continue;
      if (kind == 'c') {
        ++checkpoint_kills;
        EXPECT_TRUE(fs::exists(ckpt)) << when;
      } else if (kind == 'o') {
        ++(installing ? install_kills : staging_kills);
      } else {
        ++random_kills;
      }
    }
    // The last attempt runs to the end (or finds the results complete: the installation a
    // kill interrupted is finished by the next writer).
    const auto r = mnsim::test::run_cli({"run", scenario_, "--resume", out.string(), "--threads",
                                         "2", "--checkpoint-every", "0 s"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(out / "checkpoint")) << round;
    EXPECT_FALSE(fs::exists(out / ".staging")) << round;
    EXPECT_EQ(mnsim::io::output_state(out), "complete") << round;
    for (const auto& e : fs::directory_iterator(out)) {
      EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
    }
    EXPECT_TRUE(results(out) == ref)
        << "round " << round << ": resumed results differ from the uninterrupted run";
  }
  const int kills = random_kills + checkpoint_kills + staging_kills + install_kills;
  std::fprintf(stderr,
               "%d kills in %d rounds: %d at random moments, %d inside checkpoint writes, %d while "
               "results were staged, %d while they were installed; %d attempts resumed from a "
               "checkpoint\n",
               kills, rounds, random_kills, checkpoint_kills, staging_kills, install_kills,
               resumed);
  EXPECT_GE(kills, need.kills);
  EXPECT_GE(random_kills, need.random);
  EXPECT_GE(checkpoint_kills, need.checkpoint);
  EXPECT_GE(staging_kills + install_kills, need.output);
  EXPECT_GE(staging_kills, need.staging);
  EXPECT_GE(install_kills, need.install);
  EXPECT_GE(resumed, need.resumed);
}

// Channels that did not bleed close only once their lumen has filled (healing::channel_closure:
// the wait is the lumen's length below the viable epidermis over the fill speed), so each
// session's lumen length is state the checkpoint must keep (src/run/applications.cpp). A 0.25 mm
// pen reaches below the epidermis but no channel reaches the papillary plexus; the film on the
// skin enters through the channels while they are open. Interrupted right after the first
// session, while its channels are open, and resumed, the run ends byte for byte as the
// uninterrupted one (about 1 s in release).
TEST(CheckpointUnbledChannels, ResumedRunKeepsTheLumenTheClosureWaitsFor) {
  const fs::path dir =
      fs::temp_directory_path() / ("mnsim_ckpt_lumen_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string scenario = (dir / "s.toml").string();
  std::ofstream(scenario)
      << "title = \"unbled channels\"\nseed = 5\n"
         "[patient]\nsite = \"forehead\"\n"
         "[tissue]\nwidth = \"3 mm\"\nlength = \"3 mm\"\nresolution = \"150 um\"\n"
         "[device]\nkind = \"pen\"\nmodel = \"dermapen_2012\"\ndepth = \"0.25 mm\"\n"
         "[course]\nsessions = 2\ninterval = \"3 weeks\"\nfollow_up = \"6 weeks\"\n"
         "[[application]]\nagent = \"tranexamic_acid\"\nconcentration = \"50 mg/mL\"\n"
         "contact = \"12 hours\"\n"
         "[output]\nsnapshot_every = \"4 weeks\"\n";
  constexpr int snapshots = 6;  // before and after each session, day 28, the end
  auto r = mnsim::test::run_cli(
      {"run", scenario, "--out", (dir / "ref").string(), "--quiet", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The premise: no channel bled (none is clot-plugged), and each session's channels have a
  // lumen below the epidermis to fill.
  const auto summary = nlohmann::json::parse(slurp(dir / "ref" / "summary.json"));
  ASSERT_EQ(summary["sessions"].size(), 2u) << summary.dump(1);
  for (const auto& s : summary["sessions"]) {
    EXPECT_EQ(s["fraction_bleeding"].get<double>(), 0.0) << s.dump();
    EXPECT_GT(s["lumen_volume_mm3"].get<double>(), 0.0) << s.dump();
  }
  ASSERT_EQ(summary["substances"]["channels"].size(), 2u) << summary["substances"].dump(1);
  for (const auto& c : summary["substances"]["channels"]) {
    EXPECT_FALSE(c["clot_plugged"].get<bool>()) << c.dump();
    EXPECT_GT(c["lumen_mm3_per_cm2"].get<double>(), 0.0) << c.dump();
  }
  const std::string reference = results(dir / "ref", snapshots);

  const fs::path out = dir / "interrupted";
  interrupt_after_first_session(scenario, out);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  r = mnsim::test::run_cli(
      {"run", scenario, "--resume", out.string(), "--quiet", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(out / "checkpoint"));
  EXPECT_TRUE(results(out, snapshots) == reference)
      << "the resumed run differs from the uninterrupted one";
  fs::remove_all(dir);
}

TEST_F(Checkpoint, FullDiskIsAOneLineErrorAndKeepsThePreviousCheckpoint) {
  const fs::path out = dir_ / "full";
  interrupted_run(out);
  const std::string before = slurp(out / "checkpoint" / "run.ckpt");
  const fs::path err = dir_ / "full_disk.err";
  const Child c = spawn({"run", scenario_, "--resume", out.string(), "--checkpoint-every", "0 s"},
                        err, {{"MNSIM_TEST_FAIL_WRITE_AFTER_BYTES", "4096"}});
  const int code = wait_for(c.pid);
  const std::string msg = slurp(err);
  EXPECT_EQ(code, 1) << msg;
  const std::string line = error_line(msg);
  ASSERT_FALSE(line.empty()) << msg;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << msg;
  EXPECT_NE(line.find("cannot write " + (out / "checkpoint").string()), std::string::npos) << msg;
  EXPECT_NE(line.find("No space left on device"), std::string::npos) << msg;
  EXPECT_EQ(slurp(out / "checkpoint" / "run.ckpt"), before);
  EXPECT_FALSE(has_temporary(out / "checkpoint", "."));
  // With space again, the run continues from the intact checkpoint to the same results.
  const auto r = mnsim::test::run_cli({"run", scenario_, "--resume", out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(results(out) == reference());
}

TEST_F(Checkpoint, UnwritableCheckpointFolderIsAOneLineError) {
  const fs::path out = dir_ / "readonly";
  interrupted_run(out);
  // Root writes anywhere: as root (CI containers) the output folder is handed to uid 65534 and
  // the resumed run drops to it, so the permission applies.
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown(out.c_str(), 65534, 65534), 0);
    for (const auto& e : fs::recursive_directory_iterator(out)) {
      ASSERT_EQ(::chown(e.path().c_str(), 65534, 65534), 0) << e.path();
    }
  }
  const std::string before = slurp(out / "checkpoint" / "run.ckpt");
  fs::permissions(out / "checkpoint", fs::perms::owner_read | fs::perms::owner_exec);
  const fs::path err = dir_ / "readonly.err";
  const Child c =
      spawn({"run", scenario_, "--resume", out.string(), "--quiet"}, err, {}, /*as_nobody=*/true);
  const int code = wait_for(c.pid);
  fs::permissions(out / "checkpoint", fs::perms::owner_all);
  const std::string msg = slurp(err);
  ASSERT_NE(code, 126) << "could not drop to uid 65534";
  EXPECT_EQ(code, 1) << msg;
  EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 1) << msg;
  EXPECT_EQ(msg.rfind("error: cannot write " + (out / "checkpoint").string(), 0), 0u) << msg;
  EXPECT_NE(msg.find("Permission denied"), std::string::npos) << msg;
  EXPECT_EQ(slurp(out / "checkpoint" / "run.ckpt"), before);
}

// The snapshots and checkpoints are written on a thread of their own while the engine steps on
// (io::BackgroundWrites): a snapshot that fails there (an injected ENOSPC on the third) is still
// a one-line error, exit 1; no checkpoint written after it lists it, and none is left half
// written; with space again the run resumes to the same results.
TEST_F(Checkpoint, ASnapshotFailingInTheBackgroundIsOneLineAndNoCheckpointListsIt) {
  const fs::path out = dir_ / "snapshot_fails";
  const fs::path err = dir_ / "snapshot_fails.err";
  const Child c = spawn({"run", scenario_, "--out", out.string(), "--threads", "2"}, err,
                        {{"MNSIM_TEST_FAIL_WRITE_AFTER_BYTES", "10"},
                         {"MNSIM_TEST_FAIL_WRITE_NAME", "snapshot-000002.ckpt"}});
  const int code = wait_for(c.pid);
  const std::string msg = slurp(err);
  EXPECT_EQ(code, 1) << msg;
  const std::string line = error_line(msg);
  ASSERT_FALSE(line.empty()) << msg;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << msg;
  EXPECT_NE(line.find("cannot write " + (out / "checkpoint" / "snapshot-000002.ckpt").string() +
                      ": write (No space left on device)"),
            std::string::npos)
      << msg;
  EXPECT_FALSE(fs::exists(out / "checkpoint" / "snapshot-000002.ckpt"));
  EXPECT_FALSE(has_temporary(out / "checkpoint", "."));
  EXPECT_FALSE(fs::exists(out / "summary.json"));
  // The checkpoint after the first session (two snapshots) is the last one written.
  const fs::path ckpt = out / "checkpoint" / "run.ckpt";
  ASSERT_TRUE(fs::exists(ckpt)) << msg;
  const mnsim::RunState state =
      mnsim::decode_run_state(mnsim::io::read_checkpoint(ckpt), ckpt.string());
  EXPECT_EQ(state.snapshots.size(), 2u);
  const auto r = mnsim::test::run_cli(
      {"run", scenario_, "--resume", out.string(), "--quiet", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(results(out) == reference());
}

// Every writer of the results, failing in turn (an injected ENOSPC on that one file): one line,
// exit 1, no crash; the checkpoint and the earlier results stay as they were; with space again
// the run resumes to the same results.
TEST_F(Checkpoint, EveryResultWriterFailingIsOneLineAndKeepsCheckpointAndEarlierResults) {
  const fs::path out = dir_ / "writers";
  fs::create_directories(out);
  // Earlier results in the folder: another seed's.
  auto r =
      mnsim::test::run_cli({"run", scenario_, "--out", out.string(), "--quiet", "--seed", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string earlier = slurp(out / "summary.json");
  const std::string earlier_report = slurp(out / "report.html");
  bool first = true;
  std::string checkpoint;
  for (const char* name :
       {"report.html", "cross_section.png", "fields.h5", "fields.xmf", "timeseries.csv",
        "scars.csv", "punctures.csv", "scenario.resolved.toml", "summary.json", ".commit"}) {
    const fs::path err = dir_ / (std::string("writer_") + name + ".err");
    // The first attempt simulates to the end (the checkpoint at the end of follow-up stays);
    // the others only write the results again.
    std::vector<std::string> args{"run",        scenario_,   first ? "--out" : "--resume",
                                  out.string(), "--threads", "2"};
    if (first) args.push_back("--force");
    const Child c =
        spawn(args, err,
              {{"MNSIM_TEST_FAIL_WRITE_AFTER_BYTES", "10"}, {"MNSIM_TEST_FAIL_WRITE_NAME", name}});
    const int code = wait_for(c.pid);
    const std::string msg = slurp(err);
    EXPECT_EQ(code, 1) << name << ": " << msg;
    const std::string line = error_line(msg);
    ASSERT_FALSE(line.empty()) << msg;
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << name << ": " << line;
    EXPECT_NE(line.find(std::string("/") + name + ": write (No space left on device)"),
              std::string::npos)
        << line;
    EXPECT_NE(line.find("intact"), std::string::npos) << line;
    EXPECT_EQ(slurp(out / "summary.json"), earlier) << name;
    EXPECT_EQ(slurp(out / "report.html"), earlier_report) << name;
    EXPECT_EQ(mnsim::io::output_state(out), "complete") << name;
    ASSERT_TRUE(fs::exists(out / "checkpoint" / "run.ckpt")) << name;
    if (first) {
      checkpoint = slurp(out / "checkpoint" / "run.ckpt");
    } else {
      EXPECT_EQ(slurp(out / "checkpoint" / "run.ckpt"), checkpoint) << name;
    }
    first = false;
  }
  // After the commit point a failure leaves the results committed: the marker, failing while
  // the installation starts, is written again by the next writer, which finishes it.
  {
    const Child c = spawn({"run", scenario_, "--resume", out.string()}, dir_ / "writer_marker.err",
                          {{"MNSIM_TEST_FAIL_WRITE_AFTER_BYTES", "10"},
                           {"MNSIM_TEST_FAIL_WRITE_NAME", ".mnsim-output"}});
    EXPECT_EQ(wait_for(c.pid), 1);
    const std::string msg = slurp(dir_ / "writer_marker.err");
    EXPECT_NE(msg.find("finishes installing them"), std::string::npos) << msg;
    EXPECT_EQ(slurp(out / "summary.json"), earlier);
  }
  r = mnsim::test::run_cli({"run", scenario_, "--resume", out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(results(out) == reference());
  EXPECT_FALSE(fs::exists(out / "checkpoint"));
}

// A real full disk (a small tmpfs, where this machine lets the test mount one): the file system
// fills while the results are written. Before, HDF5 crashed at exit (exit 139) and left a
// report without its summary.
TEST_F(Checkpoint, DiskFullWhileResultsAreWrittenOnATmpfs) {
  const fs::path mnt = dir_ / "tmpfs";
  fs::create_directories(mnt);
  const std::string cmd = "mount -t tmpfs -o size=24m mnsimtest " + mnt.string() + " 2>/dev/null";
  if (::geteuid() != 0 || std::system(cmd.c_str()) != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here; the injected full disk covers every writer";
  }
  struct Unmount {
    fs::path m;
    ~Unmount() { (void)!std::system(("umount " + m.string() + " 2>/dev/null").c_str()); }
  } unmount{mnt};
  const fs::path out = mnt / "out";
  const fs::path err = dir_ / "tmpfs.err";
  const Child c = spawn({"run", scenario_, "--out", out.string(), "--threads", "2"}, err,
                        {{"MNSIM_TEST_PAUSE_IN_OUTPUT", "1"}});
  ASSERT_TRUE(wait_until([&] { return fs::exists(out / ".staging" / "report.html"); }, 300));
  // Fill the file system while the child pauses after its report, before fields.h5.
  {
    std::ofstream fill(mnt / "filler", std::ios::binary);
    const std::string block(1 << 16, 'x');
    while (fill.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      fill.flush();
      if (!fill) break;
    }
  }
  const int code = wait_for(c.pid);
  const std::string msg = slurp(err);
  EXPECT_EQ(code, 1) << msg;
  const std::string line = error_line(msg);
  ASSERT_FALSE(line.empty()) << msg;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_NE(line.find("No space left on device"), std::string::npos) << line;
  EXPECT_FALSE(fs::exists(out / "report.html"));
  EXPECT_FALSE(fs::exists(out / "summary.json"));
  ASSERT_NO_THROW(mnsim::io::read_checkpoint(out / "checkpoint" / "run.ckpt"));
  fs::remove(mnt / "filler");
  const auto r = mnsim::test::run_cli({"run", scenario_, "--resume", out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(results(out) == reference());
}

// Two runs into one folder: the second is refused at once with the first one's pid, and the
// first is not disturbed. Three races (one under the sanitizers: the same code paths).
TEST_F(Checkpoint, ASecondWriterIsRefusedAndNamesTheFirst) {
  const int trials = mnsim::test::kSanitizerBuild ? 1 : 3;
  for (int trial = 0; trial < trials; ++trial) {
    const fs::path out = dir_ / ("two" + std::to_string(trial));
    // Started together.
    const Child a =
        spawn({"run", scenario_, "--out", out.string(), "--threads", "2"}, dir_ / "two_a.err");
    const Child b =
        spawn({"run", scenario_, "--out", out.string(), "--threads", "2", "--seed", "12"},
              dir_ / "two_b.err");
    const int ca = wait_for(a.pid), cb = wait_for(b.pid);
    const std::string ea = slurp(a.err), eb = slurp(b.err);
    ASSERT_TRUE((ca == 0 && cb == 2) || (ca == 2 && cb == 0)) << ca << " " << ea << cb << " " << eb;
    const pid_t winner = ca == 0 ? a.pid : b.pid;
    const std::string& refusal = ca == 0 ? eb : ea;
    EXPECT_EQ(std::count(refusal.begin(), refusal.end(), '\n'), 1) << refusal;
    EXPECT_EQ(
        refusal.rfind("error: command line: --out: '" + out.string() +
                          "' is being written by another mnsim process: pid " +
                          std::to_string(winner) + ", 'mnsim run " + scenario_ + "', started ",
                      0),
        0u)
        << refusal;
    EXPECT_EQ(mnsim::io::output_state(out), "complete");
    EXPECT_FALSE(fs::exists(out / "checkpoint"));
    if (winner == a.pid) {
      EXPECT_TRUE(results(out) == reference());
    }
  }
}

// A rerun with another seed, killed while it writes its results, leaves the earlier run's
// results whole: its summary and its report, not a mix.
TEST_F(Checkpoint, AKilledRerunNeverMixesTwoRuns) {
  const fs::path out = dir_ / "rerun";
  auto r = mnsim::test::run_cli({"run", scenario_, "--out", out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string summary = slurp(out / "summary.json");
  const std::string report = slurp(out / "report.html");
  const std::string fields = slurp(out / "fields.h5");
  const Child c = spawn({"run", scenario_, "--out", out.string(), "--seed", "99"},
                        dir_ / "rerun.err", {{"MNSIM_TEST_PAUSE_IN_OUTPUT", "1"}});
  // Killed after its report is staged (before, the report was rewritten in place).
  ASSERT_TRUE(wait_until([&] { return fs::exists(out / ".staging" / "report.html"); }, 300));
  ::kill(c.pid, SIGKILL);
  wait_for(c.pid);
  EXPECT_EQ(slurp(out / "summary.json"), summary);
  EXPECT_EQ(slurp(out / "report.html"), report);
  EXPECT_EQ(slurp(out / "fields.h5"), fields);
  EXPECT_NE(report.find("&quot;seed&quot;: 11"), std::string::npos);
  expect_consistent_folder(out, "killed rerun");
  // The next run clears what the killed one had staged, and replaces the results whole.
  r = mnsim::test::run_cli(
      {"run", scenario_, "--out", out.string(), "--quiet", "--force", "--seed", "99"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(slurp(out / "report.html").find("&quot;seed&quot;: 99"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(slurp(out / "summary.json"))["run"]["seed"], 99);
  EXPECT_FALSE(fs::exists(out / ".staging"));
}

TEST_F(Checkpoint, DamagedForeignOrForgottenCheckpointsAreRefused) {
  const fs::path out = dir_ / "damaged";
  interrupted_run(out);
  const fs::path ck = out / "checkpoint" / "run.ckpt";
  const std::string good = slurp(ck);
  auto resume = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"run", scenario_, "--resume", out.string(), "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return mnsim::test::run_cli(args);
  };
  // Another seed is another run.
  auto r = resume({"--seed", "12"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: " + ck.string() +
                       ":1:1: (checkpoint): was written for another scenario, seed or mnsim build "
                       "(a checkpoint of this scenario and seed written by this mnsim build; "
                       "delete the checkpoint folder to start over)\n");
  // A flipped byte in the middle of the fields.
  std::string bad = good;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x10);
  std::ofstream(ck, std::ios::binary) << bad;
  r = resume();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("is corrupted (checksum mismatch)"), std::string::npos) << r.err;
  // Truncated.
  std::ofstream(ck, std::ios::binary) << good.substr(0, good.size() - 100);
  r = resume();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  // A run without --resume does not silently discard it.
  std::ofstream(ck, std::ios::binary) << good;
  r = mnsim::test::run_cli({"run", scenario_, "--out", out.string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("holds the checkpoint of an unfinished run"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(ck), good);
  // --checkpoint-every needs a time with its unit.
  for (const char* bad : {"5", "soon", "-1 min", "3 mm"}) {
    r = mnsim::test::run_cli(
        {"run", scenario_, "--resume", out.string(), "--checkpoint-every", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(r.err.rfind("error: command line: --checkpoint-every: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(slurp(ck), good);
  // --resume and a different --out contradict each other.
  r = mnsim::test::run_cli({"run", scenario_, "--resume", out.string(), "--out", "elsewhere"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace

namespace {

TEST(CohortCheckpoint, KilledCohortResumesWithoutRedoingFinishedPatients) {
  const fs::path dir =
      fs::temp_directory_path() / ("mnsim_cohort_ckpt_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // examples/02 with 100 patients (about 9 s of work on one core, a minute under the sanitizers).
  std::string text = slurp(fs::path(MNSIM_SOURCE_DIR) / "examples" / "02_cohort_acne.toml");
  const std::size_t at = text.find("size = 1000");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "size = 100");
  const std::string cohort = (dir / "c.toml").string();
  std::ofstream(cohort) << text;
  const auto t0 = Clock::now();
  auto r = mnsim::test::run_cli({"cohort", cohort, "--out", (dir / "ref").string(), "-j", "1"});
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(dir / "ref" / "checkpoint"));

  const fs::path out = dir / "killed";
  const fs::path rec = out / "checkpoint" / "patients.rec";
  const Child c = spawn({"cohort", cohort, "--resume", out.string(), "-j", "1"}, dir / "c.err");
  std::this_thread::sleep_for(std::chrono::duration<double>(0.5 * seconds));
  ::kill(c.pid, SIGKILL);
  ASSERT_EQ(wait_for(c.pid), 128 + SIGKILL) << "finished before the kill";
  ASSERT_TRUE(fs::exists(rec));
  const std::string good = slurp(rec);
  ASSERT_GT(good.size(), 32u);
  EXPECT_FALSE(fs::exists(out / "patients.csv"));

  // A damaged record in the middle is refused (exit 2, one line)...
  const std::size_t first_len =
      static_cast<unsigned char>(good[32]) |
      (static_cast<std::size_t>(static_cast<unsigned char>(good[33])) << 8);
  if (good.size() > 32 + 8 + first_len) {  // more than one record: the first is not the last
    std::string bad = good;
    bad[40] = static_cast<char>(bad[40] ^ 0x01);  // inside the first record
    std::ofstream(rec, std::ios::binary) << bad;
    r = mnsim::test::run_cli({"cohort", cohort, "--resume", out.string(), "-j", "1"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("is corrupted (checksum mismatch)"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // ...while a torn last record (a kill in the middle of an append) is dropped.
  std::string torn = good;
  torn += std::string("\x64\x00\x00\x00\x01\x02\x03\x04partial", 15);
  std::ofstream(rec, std::ios::binary) << torn;
  r = mnsim::test::run_cli({"cohort", cohort, "--resume", out.string(), "-j", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::size_t k = r.out.find("resumed: ");
  ASSERT_NE(k, std::string::npos) << r.out;
  const long reused = std::stol(r.out.substr(k + 9));
  EXPECT_GT(reused, 0);
  EXPECT_LT(reused, 100);
  EXPECT_FALSE(fs::exists(out / "checkpoint"));
  EXPECT_EQ(slurp(out / "patients.csv"), slurp(dir / "ref" / "patients.csv"));
  EXPECT_EQ(slurp(out / "cohort.json"), slurp(dir / "ref" / "cohort.json"));
  fs::remove_all(dir);
}

}  // namespace
