// Output folders (io::OutputFolder): what a writer killed at any moment leaves behind never
// blocks the retry, never mixes two runs' results, and never costs the user a file; one writer
// at a time.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "io/files.hpp"
#include "io/output_folder.hpp"
#include "support/files.hpp"

namespace fs = std::filesystem;
using mnsim::io::OutputFolder;
using mnsim::test::slurp;

namespace {

fs::path fresh_dir(const char* name) {
  const fs::path d = fs::temp_directory_path() / fmt::format("mnsim_files_{}_{}", name, ::getpid());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void put(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

/// Stages and commits a "run" of two files and a folder, each holding `tag`.
void write_run(OutputFolder& f, const std::string& tag, std::uint64_t key) {
  put(f.staging() / "summary.json", tag);
  fs::create_directories(f.staging() / "figures");
  put(f.staging() / "figures" / "a.png", tag);
  put(f.staging() / "report.html", tag);
  f.commit({"summary.json", "figures", "report.html"}, key);
}

TEST(OutputFolder, FolderHoldingOnlyAStaleMarkerTemporaryIsNew) {
  const fs::path d = fresh_dir("stale");
  put(d / "..mnsim-output.tmp.0badf00d", "mnsim out");  // killed mid-write
  const OutputFolder f = OutputFolder::open(d, false, "test");
  EXPECT_TRUE(fs::exists(d / mnsim::io::kOutputMarker));
  EXPECT_FALSE(fs::exists(d / "..mnsim-output.tmp.0badf00d"));
  EXPECT_EQ(mnsim::io::output_state(d), "empty");
  fs::remove_all(d);
}

TEST(OutputFolder, ForeignFilesStillRefused) {
  const fs::path d = fresh_dir("foreign");
  put(d / "..mnsim-output.tmp.0badf00d", "mnsim out");
  put(d / "thesis.docx", "precious");
  try {
    (void)OutputFolder::open(d, false, "test");
    FAIL() << "a foreign folder was accepted";
  } catch (const mnsim::InputError& e) {
    EXPECT_EQ(e.line(), fmt::format("command line: --out: '{}' is not empty and is not an mnsim "
                                    "output folder (an empty or new folder; pass --force to "
                                    "write into it anyway)",
                                    d.string()));
  }
  EXPECT_EQ(slurp(d / "thesis.docx"), "precious");
  EXPECT_FALSE(fs::exists(d / mnsim::io::kOutputMarker));
  fs::remove_all(d);
}

TEST(OutputFolder, ForcedIntoAForeignFolderKeepsTheUsersFiles) {
  const fs::path d = fresh_dir("forced");
  put(d / "thesis.docx", "precious");
  put(d / "report.html", "the user's own report");  // a name mnsim writes: --force replaces it
  {
    OutputFolder f = OutputFolder::open(d, true, "test");
    write_run(f, "run 1", 1);
  }
  {
    OutputFolder f = OutputFolder::open(d, false, "test");  // now an mnsim folder
    put(f.staging() / "summary.json", "run 2");
    f.commit({"summary.json"}, 2);
  }
  EXPECT_EQ(slurp(d / "thesis.docx"), "precious");
  EXPECT_EQ(slurp(d / "summary.json"), "run 2");
  EXPECT_FALSE(fs::exists(d / "report.html"));  // run 1's results are gone, all of them
  EXPECT_FALSE(fs::exists(d / "figures"));
  fs::remove_all(d);
}

TEST(OutputFolder, CommitReplacesTheEarlierResultsAndRemovesTheCheckpoint) {
  const fs::path d = fresh_dir("commit");
  {
    OutputFolder f = OutputFolder::open(d, false, "test");
    write_run(f, "run 1", 1);
    EXPECT_EQ(f.complete_key(), 1u);
  }
  {
    OutputFolder f = OutputFolder::open(d, false, "test");
    EXPECT_EQ(f.complete_key(), 1u);
    fs::create_directories(f.checkpoints());
    put(f.checkpoints() / "run.ckpt", "state");
    put(f.staging() / "summary.json", "run 2");  // killed before the commit: never seen
  }
  EXPECT_EQ(slurp(d / "summary.json"), "run 1");
  EXPECT_EQ(slurp(d / "report.html"), "run 1");
  {
    OutputFolder f = OutputFolder::open(d, false, "test");
    EXPECT_FALSE(fs::exists(f.staging() / "summary.json"));  // uncommitted staging is cleared
    EXPECT_TRUE(fs::exists(f.checkpoints() / "run.ckpt"));   // the checkpoint is kept
    write_run(f, "run 3", 3);
  }
  for (const char* e : {"summary.json", "report.html", "figures/a.png"}) {
    EXPECT_EQ(slurp(d / e), "run 3") << e;
  }
  EXPECT_FALSE(fs::exists(d / "checkpoint"));
  EXPECT_FALSE(fs::exists(d / ".staging"));
  EXPECT_EQ(mnsim::io::output_state(d), "complete");
  fs::remove_all(d);
}

TEST(OutputFolder, AnInstallationKilledHalfWayIsFinishedByTheNextWriter) {
  const fs::path d = fresh_dir("rollforward");
  {
    OutputFolder f = OutputFolder::open(d, false, "test");
    write_run(f, "old", 1);
  }
  // A writer killed during the installation of its results: it had committed (the commit
  // record is in the staging folder) and moved summary.json in, nothing else.
  {
    OutputFolder f = OutputFolder::open(d, false, "test");
    fs::create_directories(f.checkpoints());
    put(f.staging() / "summary.json", "new");
    fs::create_directories(f.staging() / "figures");
    put(f.staging() / "figures" / "a.png", "new");
    put(f.staging() / "report.html", "new");
  }
  put(d / ".staging" / ".commit",
      "{\"entries\": [\"summary.json\", \"figures\", \"report.html\"], \"key\": "
      "\"0000000000000002\"}");
  put(d / ".mnsim-output",
      "{\"state\": \"installing\", \"entries\": [\"summary.json\", \"figures\", "
      "\"report.html\"], \"previous\": [\"summary.json\", \"figures\", \"report.html\"]}");
  fs::remove(d / "report.html");
  fs::remove_all(d / "figures");
  fs::rename(d / ".staging" / "summary.json", d / "summary.json");
  EXPECT_EQ(mnsim::io::output_state(d), "installing");
  {
    const OutputFolder f = OutputFolder::open(d, false, "test");
    EXPECT_EQ(f.complete_key(), 2u);
  }
  for (const char* e : {"summary.json", "report.html", "figures/a.png"}) {
    EXPECT_EQ(slurp(d / e), "new") << e;
  }
  EXPECT_FALSE(fs::exists(d / "checkpoint"));
  EXPECT_EQ(mnsim::io::output_state(d), "complete");
  fs::remove_all(d);
}

TEST(OutputFolder, AMarkerNamingPathsOutsideTheFolderRemovesNothingThere) {
  const fs::path d = fresh_dir("hostile");
  const fs::path outside = fresh_dir("hostile_outside");
  put(outside / "keep.txt", "keep");
  put(d / ".mnsim-output",
      fmt::format("{{\"state\": \"complete\", \"entries\": [\"../{}\", \"{}\", \"..\", \"\"]}}",
                  outside.filename().string(), outside.string()));
  {
    OutputFolder f = OutputFolder::open(d, false, "test");
    write_run(f, "run", 1);
  }
  EXPECT_EQ(slurp(outside / "keep.txt"), "keep");
  fs::remove_all(d);
  fs::remove_all(outside);
}

TEST(OutputFolder, ASecondWriterIsRefusedWithTheFirstOnesPid) {
  const fs::path d = fresh_dir("lock");
  const OutputFolder first = OutputFolder::open(d, false, "mnsim run first.toml");
  // flock locks belong to open files: a child process is a second writer.
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipefd[0]);
    std::string msg = "no error";
    int code = 0;
    try {
      (void)OutputFolder::open(d, false, "mnsim run second.toml");
    } catch (const mnsim::InputError& e) {
      msg = e.line();
      code = 2;
    }
    (void)!::write(pipefd[1], msg.data(), msg.size());
    ::_exit(code);
  }
  ::close(pipefd[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 2) << msg;
  EXPECT_NE(msg.find(fmt::format("command line: --out: '{}' is being written by another mnsim "
                                 "process: pid {}, 'mnsim run first.toml', started ",
                                 d.string(), ::getpid())),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("(wait until it has finished, or another folder)"), std::string::npos) << msg;
  fs::remove_all(d);
}

// A writer refused because another holds the folder leaves the holder's lock file and its
// staging folder, still empty while the holder simulates, alone: the refused writer's cleanup
// once removed both (a run then found no staging folder for its fields.h5).
TEST(OutputFolder, ARefusedWriterLeavesTheHoldersLockAndStagingAlone) {
  const fs::path d = fresh_dir("refused");
  {
    OutputFolder held = OutputFolder::open(d, false, "mnsim run first.toml");
    ASSERT_TRUE(fs::is_directory(held.staging()));
    EXPECT_THROW((void)OutputFolder::open(d, false, "mnsim run second.toml"), mnsim::InputError);
    EXPECT_TRUE(fs::is_directory(held.staging()));
    EXPECT_TRUE(fs::exists(d / mnsim::io::kOutputLock));
  }
  fs::remove_all(d);
}

// Files written in the background (io::BackgroundWrites, the checkpoints of `mnsim run`): in
// the order given, one at a time; a file is in place once wait() returns; a failure is thrown by
// the next start() or wait(), never lost, and nothing handed over after it is written.
TEST(BackgroundWrites, WritesInOrderAndIsDurableOnceWaitReturns) {
  const fs::path d = fresh_dir("background");
  mnsim::io::BackgroundWrites w;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) {
    w.start([&order, i, f = d / fmt::format("f{}", i)] {
      // A slow first file: the later ones still wait for it.
      if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      mnsim::io::write_file_atomic(f, fmt::format("file {}", i));
      order.push_back(i);
    });
  }
  w.wait();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(slurp(d / fmt::format("f{}", i)), fmt::format("file {}", i));
  w.wait();  // nothing pending: returns at once
  fs::remove_all(d);
}

TEST(BackgroundWrites, AFailureIsThrownByTheNextStartAndWhatFollowsIsNotWritten) {
  const fs::path d = fresh_dir("background_fail");
  mnsim::io::BackgroundWrites w;
  // Unwritable: the folder does not exist.
  w.start([f = d / "missing" / "a.ckpt"] { mnsim::io::write_file_atomic(f, "a"); });
  bool ran = false;
  std::string msg;
  try {
    w.start([&ran] { ran = true; });
  } catch (const mnsim::OutputError& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("cannot write " + (d / "missing" / "a.ckpt").string() + ": open"),
            std::string::npos)
      << msg;
  w.wait();
  EXPECT_FALSE(ran);
  // The error was thrown once; the writer goes on with the next file.
  w.start([f = d / "b"] { mnsim::io::write_file_atomic(f, "b"); });
  w.wait();
  EXPECT_EQ(slurp(d / "b"), "b");
  fs::remove_all(d);
}

TEST(BackgroundWrites, AFailureIsThrownByWait) {
  const fs::path d = fresh_dir("background_wait");
  mnsim::io::BackgroundWrites w;
  w.start([f = d / "missing" / "a"] { mnsim::io::write_file_atomic(f, "a"); });
  EXPECT_THROW(w.wait(), mnsim::OutputError);
  EXPECT_NO_THROW(w.wait());
  EXPECT_TRUE(fs::is_empty(d));  // no temporary left behind
  fs::remove_all(d);
}

}  // namespace
