// The healing parameter file: every parameter sourced, loader round trip, malformed files.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "healing/params.hpp"

namespace mnsim::healing {
namespace {

TEST(HealingParams, DefaultFileLoadsWithEveryParameterSourced) {
  const ParamSet ps = load_default_params();
  ASSERT_EQ(ps.records.size(), param_registry().size());
  for (const auto& r : ps.records) {
    SCOPED_TRACE(r.section + "." + r.key);
    ASSERT_GE(r.source.size(), 10u);
    const bool tagged =
        r.source.rfind("calibrated (", 0) == 0 || r.source.rfind("assumed (", 0) == 0;
    // A citation names a year.
    bool has_year = false;
    for (std::size_t i = 0; i + 4 <= r.source.size(); ++i) {
      const std::string y = r.source.substr(i, 4);
      if ((y.rfind("19", 0) == 0 || y.rfind("20", 0) == 0) && std::isdigit(y[2]) &&
          std::isdigit(y[3])) {
        has_year = true;
      }
    }
    EXPECT_TRUE(tagged || has_year) << r.source;
    EXPECT_GT(r.line, 0);
  }
  // Spot checks against the primary figures quoted in the file.
  EXPECT_NEAR(ps.p.vegf_decay, std::log(2.0) / (33.7 / 60.0), 0.01);         // Eppler 2002
  EXPECT_NEAR(ps.p.collagen_turnover, std::log(2.0) / (15 * 8766.0), 1e-7);  // Verzijl 2000
  EXPECT_NEAR(ps.p.neutrophil_death, 1.0 / 36.0, 1e-3);                      // Summers 2010
  EXPECT_NEAR(ps.p.gf_diffusivity, 1.4e-6 * 1e8 * 3600.0, 0.1e6);  // Nauman 2007, cm^2/s -> um^2/h
}

TEST(HealingParams, RoundTripReproducesTheFile) {
  const ParamSet a = load_default_params();
  const std::string text = to_toml(a);
  const ParamSet b = parse_params(text, "roundtrip.toml");
  ASSERT_EQ(a.records.size(), b.records.size());
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records[i].key, b.records[i].key);
    EXPECT_EQ(a.records[i].value, b.records[i].value) << a.records[i].key;
    EXPECT_EQ(a.records[i].unit, b.records[i].unit);
    EXPECT_EQ(a.records[i].source, b.records[i].source);
  }
  for (const auto& pi : param_registry()) EXPECT_EQ(a.p.*(pi.member), b.p.*(pi.member));
  EXPECT_EQ(to_toml(b), text);
}

// Replaces the first line starting with `key =` in the default file text.
std::string with_line(const std::string& key, const std::string& line, int* line_no) {
  std::string text = to_toml(load_default_params());
  const std::size_t pos = text.find("\n" + key + " = ");
  EXPECT_NE(pos, std::string::npos);
  const std::size_t end = text.find('\n', pos + 1);
  text.replace(pos + 1, end - pos - 1, line);
  *line_no = 1;
  for (std::size_t i = 0; i <= pos; ++i) *line_no += text[i] == '\n' ? 1 : 0;
  return text;
}

InputError expect_error(const std::string& text) {
  try {
    parse_params(text, "bad.toml");
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError";
  return InputError({}, "", "");
}

TEST(HealingParams, WrongUnitNamesKeyAndPosition) {
  int ln = 0;
  const std::string bad = "vegf_decay = { value = 1.23, unit = \"1/s\", source = \"x 2002\" }";
  const auto e = expect_error(with_line("vegf_decay", bad, &ln));
  EXPECT_EQ(e.key(), "growth_factors.vegf_decay.unit");
  EXPECT_EQ(e.loc().file, "bad.toml");
  EXPECT_EQ(e.loc().line, ln);
  EXPECT_EQ(e.loc().col, static_cast<int>(bad.find("\"1/s\"")) + 1);
  EXPECT_NE(e.line().find("\"1/h\""), std::string::npos) << e.line();
}

TEST(HealingParams, NonNumberAndOutOfRangeValues) {
  int ln = 0;
  auto e = expect_error(with_line(
      "gf_half", "gf_half = { value = \"one\", unit = \"ng/mL\", source = \"assumed (x)\" }", &ln));
  EXPECT_EQ(e.key(), "growth_factors.gf_half.value");
  EXPECT_EQ(e.loc().line, ln);
  e = expect_error(with_line(
      "gf_decay", "gf_decay = { value = -0.3, unit = \"1/h\", source = \"assumed (x)\" }", &ln));
  EXPECT_EQ(e.key(), "growth_factors.gf_decay.value");
  EXPECT_EQ(e.loc().line, ln);
}

TEST(HealingParams, MissingSourceUnknownKeyMissingParameterSyntax) {
  int ln = 0;
  auto e = expect_error(with_line("gf_half", "gf_half = { value = 1.0, unit = \"ng/mL\" }", &ln));
  EXPECT_EQ(e.key(), "growth_factors.gf_half.source");
  EXPECT_EQ(e.loc().line, ln);
  e = expect_error(with_line(
      "gf_half",
      "gf_hlaf = { value = 1.0, unit = \"ng/mL\", source = \"assumed (typo in the key)\" }", &ln));
  EXPECT_EQ(e.key(), "growth_factors.gf_hlaf");
  EXPECT_EQ(e.loc().line, ln);
  e = expect_error(with_line("gf_half", "# gf_half removed", &ln));
  EXPECT_EQ(e.key(), "growth_factors.gf_half");
  EXPECT_EQ(e.problem(), "missing parameter");
  e = expect_error(with_line("gf_half", "gf_half = { value = 1.0, unit = ", &ln));
  EXPECT_EQ(e.key(), "toml");
  EXPECT_EQ(e.loc().line, ln);
}

}  // namespace
}  // namespace mnsim::healing
