// docs/scenario.md documents every schema key, and its generated reference is up to date.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../../tools/scenario_reference.hpp"
#include "core/scenario_schema.hpp"

namespace {

std::string read_doc() {
  std::ifstream in(std::string(MNSIM_SOURCE_DIR) + "/docs/scenario.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ScenarioDoc, EveryKeyIsDocumented) {
  const std::string doc = read_doc();
  ASSERT_FALSE(doc.empty()) << "docs/scenario.md missing";
  for (const auto& fk : mnsim::schema::flatten(mnsim::scenario_schema())) {
    EXPECT_NE(doc.find("`" + fk.path + "`"), std::string::npos)
        << "docs/scenario.md does not document `" << fk.path << "` (run scripts/gen-docs.sh)";
  }
}

TEST(ScenarioDoc, GeneratedReferenceIsCurrent) {
  const std::string doc = read_doc();
  EXPECT_NE(doc.find(mnsim::tools::scenario_reference_markdown()), std::string::npos)
      << "the key reference in docs/scenario.md is stale: run scripts/gen-docs.sh";
}

}  // namespace
