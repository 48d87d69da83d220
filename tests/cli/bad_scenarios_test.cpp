// The catalog of malformed scenarios (tests/scenarios/bad/): each gives exactly the expected
// one-line error and exit code 2, from `mnsim check` and from `mnsim run` (which must not create
// its output folder).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using mnsim::test::run_cli;

namespace {

const fs::path kBad = fs::path(MNSIM_TEST_DIR) / "scenarios" / "bad";

struct Case {
  std::string file;
  std::string expected;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.file;
}

std::vector<Case> load_cases() {
  std::vector<Case> cases;
  std::ifstream in(kBad / "expected.tsv");
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    cases.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return cases;
}

TEST(BadScenarios, CatalogHasAtLeastThirtyCasesAndEveryFileIsListed) {
  const auto cases = load_cases();
  EXPECT_GE(cases.size(), 30u);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(kBad)) {
    if (e.path().extension() != ".toml") continue;
    ++files;
    const bool listed = std::any_of(cases.begin(), cases.end(),
                                    [&](const Case& c) { return c.file == e.path().filename(); });
    EXPECT_TRUE(listed) << e.path().filename() << " has no expected line in expected.tsv";
  }
  EXPECT_EQ(files, cases.size());
}

class BadScenario : public ::testing::TestWithParam<Case> {};

TEST_P(BadScenario, CheckGivesTheExpectedLine) {
  const Case& c = GetParam();
  const auto r = run_cli({"check", c.file}, kBad.string());
  EXPECT_EQ(r.exit_code, 2) << c.file;
  EXPECT_EQ(r.err, c.expected + "\n") << c.file;
  EXPECT_TRUE(r.out.empty()) << c.file;
}

TEST_P(BadScenario, RunGivesTheSameLineAndWritesNothing) {
  const Case& c = GetParam();
  const fs::path out = fs::temp_directory_path() / ("mnsim_bad_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const auto r = run_cli({"run", c.file, "--out", out.string(), "--quiet"}, kBad.string());
  EXPECT_EQ(r.exit_code, 2) << c.file;
  EXPECT_EQ(r.err, c.expected + "\n") << c.file;
  EXPECT_FALSE(fs::exists(out)) << "a rejected scenario created its output folder";
}

INSTANTIATE_TEST_SUITE_P(Catalog, BadScenario, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string n = i.param.file.substr(0, i.param.file.find('.'));
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(BadScenarios, FiftyMegabyteFileIsRefusedQuickly) {
  const fs::path dir = fs::temp_directory_path() / ("mnsim_big_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "big.toml");
    const std::string line = "# padding padding padding padding padding padding padding padding\n";
    for (std::size_t n = 0; n < (50u << 20); n += line.size()) f << line;
  }
  const auto r = run_cli({"check", "big.toml"}, dir.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: big.toml:1:1: (file): file is 50.0 MiB (at most 4.0 MiB)\n");
  fs::remove_all(dir);
}

TEST(BadScenarios, DirectoryInsteadOfFile) {
  const auto r = run_cli({"check", "."}, kBad.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "error: .:1:1: (file): is a directory, not a regular file (a TOML scenario file)\n");
}

}  // namespace
