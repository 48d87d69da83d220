// docs/scenario.md documents every schema key, and its generated reference is up to date.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../../tools/scenario_reference.hpp"
#include "run/scenario_schema.hpp"
#include "support/files.hpp"

namespace {

std::string read_doc() {
  return mnsim::test::slurp(std::string(MNSIM_SOURCE_DIR) + "/docs/scenario.md");
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
