// A result file added from outside src/run (docs/extending.md, "An output writer"): a CSV of the
// scars before and after, written by a writer registered in this file only. `mnsim run` stages
// it with the other results and commits it with them.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "core/scenario.hpp"
#include "io/files.hpp"
#include "run/run.hpp"
#include "run/scenario_schema.hpp"
#include "run/writers.hpp"
#include "support/files.hpp"

namespace {

using namespace mnsim;
namespace fs = std::filesystem;

// BEGIN docs/extending.md output-writer
void write_scar_table(const RunResults& r, const fs::path& stage) {
  std::string csv = "type,depth_um_before,depth_um_after\n";
  for (const auto& s : r.outcome.scars) {
    csv += fmt::format("{},{:.3f},{:.3f}\n", s.type, s.depth_before * 1e6, s.depth_after * 1e6);
  }
  io::write_file_atomic(stage / "scar_table.csv", csv);  // atomic; OutputError names the file
}

const bool registered = (register_result_writer({.name = "scar table",
                                                 .entries = {"scar_table.csv"},
                                                 .install = ResultWriter::Install::Between,
                                                 .write = write_scar_table}),
                         true);
// END docs/extending.md output-writer

std::string read(const fs::path& p) {
  return test::slurp(p);
}

TEST(OutputWriterRegistry, ARegisteredWriterIsStagedAndCommittedWithTheResults) {
  ASSERT_TRUE(registered);
  const fs::path dir = fs::temp_directory_path() / ("mnsim_writer_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const Table sc = parse_scenario_text(
      "seed = 3\n[tissue]\nwidth = \"2 mm\"\nlength = \"2 mm\"\nresolution = \"100 um\"\n"
      "[[lesions]]\nkind = \"boxcar\"\nx = \"1 mm\"\ny = \"1 mm\"\nwidth = \"1 mm\"\n"
      "depth = \"0.3 mm\"\n[course]\nsessions = 1\nfollow_up = \"6 hours\"\n",
      "writer.toml", scenario_schema());
  RunOptions opts;
  opts.out_dir = dir;
  const RunResult res = run_scenario(sc, opts);
  const std::string csv = read(dir / "scar_table.csv");
  EXPECT_EQ(csv.rfind("type,depth_um_before,depth_um_after\nboxcar,", 0), 0u) << csv;
  EXPECT_NE(csv.find(fmt::format(
                "{:.3f}", res.summary["outcome"]["scars"][0]["depth_um_after"].get<double>())),
            std::string::npos)
      << csv;
  // Committed with the others: listed in the folder's marker, nothing left in staging.
  const std::string marker = read(dir / ".mnsim-output");
  EXPECT_NE(marker.find("\"scar_table.csv\""), std::string::npos) << marker;
  EXPECT_NE(marker.find("\"complete\""), std::string::npos) << marker;
  EXPECT_FALSE(fs::exists(dir / ".staging" / "scar_table.csv"));
  fs::remove_all(dir);
}

TEST(OutputWriterRegistry, AFileOfAnotherWriterIsRefused) {
  EXPECT_THROW(
      register_result_writer(
          {.name = "second summary", .entries = {"summary.json"}, .write = write_scar_table}),
      std::invalid_argument);
}

// docs/extending.md shows this file's writer, line for line.
TEST(OutputWriterRegistry, TheDocumentationShowsThisCode) {
  const std::string code =
      test::marked_code("extending/output_writer_test.cpp", "docs/extending.md output-writer");
  ASSERT_FALSE(code.empty());
  EXPECT_TRUE(test::doc_shows("extending.md", code))
      << "docs/extending.md, 'An output writer', must show tests/extending/output_writer_test.cpp "
         "between its BEGIN and END markers";
}

}  // namespace
