// The hostile-input corpus (docs/reliability.md, "Hostile-input corpus"): every row of
// tests/hostile/manifest.tsv runs the real mnsim binary on a bad input (a scenario, cohort,
// planner or validation file, a data file, a height map, a checkpoint, a command-line flag, or a
// FIFO, device, socket or folder where a file should be) and expects exactly one line on
// standard error, naming the file, line and key, and its exit code; nothing may be left behind.
//
// Each case runs in a fresh folder holding a copy of tests/hostile/files/, after the setup
// actions of its row, with a time limit: a hang (a FIFO opened for reading) fails the case.
//
// manifest.tsv, one case per line (# comments), five tab-separated columns:
//   name    unique, [A-Za-z0-9_]
//   setup   ';'-separated actions run in the case folder, or '-':
//             fifo:P  dir:P  socket:P  link:P=TARGET  rm:P  outdir:P (an mnsim output folder
//             with P/checkpoint/)  data:P (a copy of data/)  copy:SRC=DST  write:P=TEXT
//             env:NAME=VALUE (for the mnsim process)
//           an action on an existing path replaces it
//   args    mnsim's arguments, separated by single spaces; '' is an empty argument
//   exit    the expected exit code
//   stderr  the expected standard error, one line without "\n" (empty for none)
// In setup and args, \xNN is a byte, \s a space, \t a tab, \n a newline and \\ a backslash;
// {T} in setup, args and stderr is the case folder's absolute path.
//
// MNSIM_HOSTILE_BINARY runs the corpus against another mnsim build (to count the cases an older
// build fails) and MNSIM_HOSTILE_TIMEOUT sets the time limit in seconds (default 30).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kHostile = fs::path(MNSIM_TEST_DIR) / "hostile";

struct Case {
  std::string name, setup, args, expected;
  int exit = 0;
  int line = 0;  // in manifest.tsv
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name << " (manifest.tsv:" << c.line << ")";
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t at = 0;
  for (;;) {
    const auto next = s.find(sep, at);
    out.push_back(s.substr(at, next == std::string::npos ? next : next - at));
    if (next == std::string::npos) return out;
    at = next + 1;
  }
}

std::vector<Case> load_cases() {
  std::vector<Case> cases;
  std::ifstream in(kHostile / "manifest.tsv");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    const auto cols = split(line, '\t');
    if (cols.size() != 5) {
      ADD_FAILURE() << "manifest.tsv:" << n << ": " << cols.size() << " columns, expected 5";
      continue;
    }
    Case c{cols[0], cols[1], cols[2], cols[4], std::atoi(cols[3].c_str()), n};
    cases.push_back(c);
  }
  return cases;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

/// Decodes \xNN, \s, \t, \n and \\.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char e = s[++i];
    if (e == 'x' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (e == 's') {
      out += ' ';
    } else if (e == 't') {
      out += '\t';
    } else if (e == 'n') {
      out += '\n';
    } else {
      out += e;
    }
  }
  return out;
}

/// Every path under `dir` (relative), folders marked with a trailing '/'.
std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const bool folder = it->is_directory(ec) && !it->is_symlink(ec);
    out.insert(fs::relative(it->path(), dir).string() + (folder ? "/" : ""));
  }
  return out;
}

void remove_path(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

/// Runs one setup action in `dir`; environment settings go to `env`.
void setup_action(const fs::path& dir, const std::string& action, std::vector<std::string>& env) {
  const auto colon = action.find(':');
  ASSERT_NE(colon, std::string::npos) << "setup action '" << action << "'";
  const std::string op = action.substr(0, colon);
  const std::string arg = action.substr(colon + 1);
  const auto eq = arg.find('=');
  const fs::path p = dir / arg.substr(0, eq);
  const std::string value = eq == std::string::npos ? std::string() : arg.substr(eq + 1);
  if (op == "env") {
    env.push_back(arg);
    return;
  }
  if (op != "copy" && op != "data") remove_path(p);
  if (op != "rm") fs::create_directories(p.parent_path());
  if (op == "fifo") {
    ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0) << p << ": " << std::strerror(errno);
  } else if (op == "dir") {
    fs::create_directories(p);
  } else if (op == "socket") {
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    ASSERT_LT(p.string().size(), sizeof a.sun_path) << p;
    std::strncpy(a.sun_path, p.c_str(), sizeof a.sun_path - 1);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
    ::close(s);  // the socket file stays
  } else if (op == "link") {
    fs::create_symlink(value, p);
  } else if (op == "rm") {
  } else if (op == "outdir") {
    fs::create_directories(p / "checkpoint");
    std::ofstream(p / ".mnsim-output") << "mnsim output folder\n";
  } else if (op == "data") {
    remove_path(p);
    fs::create_directories(p);
    for (const auto& e : fs::directory_iterator(fs::path(MNSIM_SOURCE_DIR) / "data")) {
      if (e.path().extension() == ".toml") fs::copy_file(e.path(), p / e.path().filename());
    }
  } else if (op == "copy") {
    const fs::path to = dir / value;
    remove_path(to);
    fs::create_directories(to.parent_path());
    fs::copy(p, to, fs::copy_options::recursive);
  } else if (op == "write") {
    std::ofstream(p, std::ios::binary) << value;
  } else {
    FAIL() << "unknown setup action '" << op << "'";
  }
}

class Hostile : public ::testing::TestWithParam<Case> {};

TEST_P(Hostile, OneLineAndExitCodeNothingLeftBehind) {
  const Case& c = GetParam();
  char tpl[] = "/tmp/mnsim_hostile_XXXXXX";
  ASSERT_NE(::mkdtemp(tpl), nullptr);
  const fs::path dir = tpl;
  fs::copy(kHostile / "files", dir, fs::copy_options::recursive);
  mnsim::test::CliOptions o;
  o.cwd = dir.string();
  o.timeout_s = 30;
  if (const char* t = std::getenv("MNSIM_HOSTILE_TIMEOUT"); t && *t) o.timeout_s = std::atof(t);
  if (const char* b = std::getenv("MNSIM_HOSTILE_BINARY"); b && *b) o.binary = b;
  const auto subst = [&](const std::string& s) { return replace_all(s, "{T}", dir.string()); };
  if (c.setup != "-") {
    for (const auto& a : split(c.setup, ';')) {
      setup_action(dir, unescape(subst(a)), o.env);
      if (HasFatalFailure()) return;
    }
  }
  std::vector<std::string> args;
  if (!c.args.empty()) {
    for (const auto& a : split(c.args, ' ')) args.push_back(a == "''" ? "" : unescape(subst(a)));
  }
  const auto before = listing(dir);
  const auto r = mnsim::test::run_cli(args, o);
  EXPECT_FALSE(r.timed_out) << c.name << ": still running after " << o.timeout_s << " s (a hang)";
  EXPECT_EQ(r.exit_code, c.exit) << c.name << "\nstderr: " << r.err;
  const std::string expected = c.expected.empty() ? "" : subst(c.expected) + "\n";
  EXPECT_EQ(r.err, expected) << c.name;
  if (c.exit == 2) {
    EXPECT_EQ(r.out, "") << c.name << ": a refused input printed to standard output";
    EXPECT_EQ(listing(dir), before) << c.name << ": a refused input left files behind";
  }
  remove_path(dir);
}

INSTANTIATE_TEST_SUITE_P(Corpus, Hostile, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(HostileCorpus, ManifestIsWellFormedAndLarge) {
  const auto cases = load_cases();
  EXPECT_GE(cases.size(), 200u);
  std::set<std::string> names;
  for (const auto& c : cases) {
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate case name " << c.name;
    EXPECT_TRUE(std::all_of(c.name.begin(), c.name.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
    })) << c.name;
    // A refusal is one line that starts with "error: " and names a place and a key.
    if (c.exit != 0) {
      EXPECT_EQ(c.expected.rfind("error: ", 0), 0u) << c.name;
      EXPECT_EQ(c.expected.find('\n'), std::string::npos) << c.name;
    }
  }
  // Every input file of the corpus is used: named by a case, or by another file (a height map
  // or cohort file named in a scenario or validation file).
  std::string all_files;
  for (const auto& e : fs::recursive_directory_iterator(kHostile / "files")) {
    if (e.is_regular_file()) all_files += mnsim::test::slurp(e.path());
  }
  for (const auto& e : fs::recursive_directory_iterator(kHostile / "files")) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), kHostile / "files").string();
    const bool used =
        std::any_of(cases.begin(), cases.end(),
                    [&](const Case& c) {
                      return c.args.find(rel) != std::string::npos ||
                             c.setup.find(rel) != std::string::npos ||
                             c.expected.find(rel) != std::string::npos;
                    }) ||
        all_files.find("\"" + e.path().filename().string() + "\"") != std::string::npos;
    EXPECT_TRUE(used) << rel << " is not used by any case of manifest.tsv";
  }
}

// The resolved scenario that an output folder holds names a height map by a path that still
// resolves from there (it was relative to the original scenario's folder): checking it again
// from the output folder works.
TEST(HostileCorpus, ResolvedScenarioWithAHeightMapChecksAgainFromItsOutputFolder) {
  char tpl[] = "/tmp/mnsim_hostile_XXXXXX";
  ASSERT_NE(::mkdtemp(tpl), nullptr);
  const fs::path dir = tpl;
  fs::copy(kHostile / "files", dir, fs::copy_options::recursive);
  mnsim::test::CliOptions o;
  o.cwd = dir.string();
  o.timeout_s = 120;
  if (const char* b = std::getenv("MNSIM_HOSTILE_BINARY"); b && *b) o.binary = b;
  auto r = mnsim::test::run_cli({"punctures", "heightmap/pit.toml", "--out", "out"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(dir / "out" / "scenario.resolved.toml"));
  o.cwd = (dir / "out").string();
  r = mnsim::test::run_cli({"check", "scenario.resolved.toml"}, o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("file = \"" + (dir / "heightmap" / "pit.csv").string() + "\""),
            std::string::npos)
      << r.out;
  remove_path(dir);
}

}  // namespace
