#include "core/scenario.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mnsim {
namespace {

using namespace schema;

Key test_schema() {
  Key root = table("", "root", {}, true);
  Key dev = table("device", "a device",
                  {enumeration("kind", {"roller", "pen"}, "roller", "device kind"),
                   quantity("needle_length", Dim::Length, "mm", "1.5 mm", "needle", 1e-4, 3e-3)});
  dev.discriminator = "kind";
  dev.variants["roller"] = {integer("rows", "8", "rows", 1, 100)};
  dev.variants["pen"] = {quantity("frequency", Dim::Frequency, "Hz", "90 Hz", "rate", 1, 500)};
  root.children = {integer("seed", "1", "seed", 0, 1e9), dev,
                   table_array("lesions", "lesions",
                               {enumeration("kind", {"icepick", "boxcar"}, "", "kind").must(),
                                quantity("depth", Dim::Length, "mm", "0.3 mm", "depth", 0, 5e-3)})};
  return root;
}

Table parse(const std::string& text) {
  return parse_scenario_text(text, "t.toml", test_schema());
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.line();
  }
  return "(no error)";
}

TEST(Scenario, DefaultsFilledInAndMarked) {
  const Table t = parse("seed = 3\n");
  EXPECT_EQ(t.integer("seed"), 3);
  const Table& d = t.table("device");
  EXPECT_EQ(d.str("kind"), "roller");
  EXPECT_DOUBLE_EQ(d.quantity("needle_length"), 1.5e-3);
  EXPECT_EQ(d.integer("rows"), 8);
  EXPECT_FALSE(d.has("frequency"));
  EXPECT_TRUE(d.value("needle_length").defaulted);
  const std::string toml = t.to_toml();
  EXPECT_NE(toml.find("needle_length = \"1.5 mm\"  # default"), std::string::npos) << toml;
  EXPECT_EQ(t.to_json()["device"]["needle_length"], "1.5 mm");
}

TEST(Scenario, VariantKeysFollowTheDiscriminator) {
  const Table t = parse("[device]\nkind = \"pen\"\nfrequency = \"120 Hz\"\n");
  EXPECT_DOUBLE_EQ(t.table("device").quantity("frequency"), 120.0);
  EXPECT_FALSE(t.table("device").has("rows"));
  EXPECT_EQ(error_of("[device]\nkind = \"pen\"\nrows = 8\n"),
            "t.toml:3:1: device.rows: key 'rows' is only valid when kind = \"roller\" (this table "
            "has kind = \"pen\")");
}

TEST(Scenario, TableArraysWithRequiredKeys) {
  const Table t =
      parse("[[lesions]]\nkind = \"boxcar\"\n[[lesions]]\nkind = \"icepick\"\ndepth = \"1 mm\"\n");
  ASSERT_EQ(t.tables("lesions").size(), 2u);
  EXPECT_EQ(t.tables("lesions")[1].str("kind"), "icepick");
  EXPECT_DOUBLE_EQ(t.tables("lesions")[1].quantity("depth"), 1e-3);
  EXPECT_EQ(t.tables("lesions")[1].key_path("depth"), "lesions[1].depth");
  EXPECT_EQ(error_of("[[lesions]]\ndepth = \"1 mm\"\n"),
            "t.toml:1:1: lesions[0].kind: missing required key (one of \"icepick\", \"boxcar\": "
            "kind)");
}

TEST(Scenario, ErrorsCarryLocationKeyAndExpectation) {
  EXPECT_EQ(error_of("[device]\nneedle_length = 1.5\n"),
            "t.toml:2:17: device.needle_length: bare number 1.5 has no unit (a length with a "
            "unit, e.g. \"1.5 mm\")");
  EXPECT_EQ(error_of("[device]\nneedle_lenght = \"1 mm\"\n"),
            "t.toml:2:1: device.needle_lenght: unknown key 'needle_lenght' (did you mean "
            "'needle_length'?)");
  EXPECT_EQ(error_of("[device]\nneedle_length = \"-1 mm\"\n"),
            "t.toml:2:17: device.needle_length: \"-1 mm\" is out of range (expected 100 um to 3 "
            "mm)");
}

TEST(Scenario, FailPointsAtTheKey) {
  const Table t = parse("seed = 3\n[device]\nneedle_length = \"2 mm\"\n");
  try {
    t.table("device").fail("needle_length", "longer than the skin is deep", "at most 1 mm");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(),
              "t.toml:3:17: device.needle_length: longer than the skin is deep (at most 1 mm)");
  }
}

TEST(Schema, SuggestsCloseNames) {
  EXPECT_EQ(suggest("sesions", {"sessions", "interval"}), "sessions");
  EXPECT_EQ(suggest("zzzzzz", {"sessions", "interval"}), "");
}

}  // namespace
}  // namespace mnsim
