// The site atlas: every value of data/sites.toml reproduced (parsed here independently with
// toml++ and a test-local unit table), and the age/sex/Fitzpatrick modifiers on two examples
// computed by hand.
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "skin/atlas.hpp"
#include "support/files.hpp"

using namespace mnsim;
using namespace mnsim::skin;

namespace {

const std::string kAtlas = std::string(MNSIM_SOURCE_DIR) + "/data/sites.toml";

// Independent conversion of "<number> <unit>" to SI for the units used in the atlas.
double si_of(const std::string& text) {
  static const std::map<std::string, double> units = {{"um", 1e-6},
                                                      {"mm", 1e-3},
                                                      {"%", 0.01},
                                                      {"", 1.0},
                                                      {"/mm^2", 1e6},
                                                      {"N/m", 1.0},
                                                      {"MPa", 1e6},
                                                      {"kPa", 1e3},
                                                      {"mg/mL", 1.0},
                                                      {"/mm^3", 1e9},
                                                      {"years", 365.25 * 86400.0}};
  std::istringstream in(text);
  double v = 0;
  in >> v;
  EXPECT_FALSE(in.fail()) << text;
  std::string unit;
  std::getline(in, unit);
  unit.erase(0, unit.find_first_not_of(' '));
  auto it = units.find(unit);
  EXPECT_NE(it, units.end()) << "unit of " << text;
  return it == units.end() ? NAN : v * it->second;
}

void expect_value(const toml::table& src, const std::string& key, const io::DataValue& v,
                  const std::string& where) {
  const toml::table* e = src[key].as_table();
  ASSERT_NE(e, nullptr) << where << "." << key;
  const std::string text = (*e)["value"].value_or(std::string());
  const std::string source = (*e)["source"].value_or(std::string());
  EXPECT_EQ(v.text, text) << where << "." << key;
  EXPECT_EQ(v.source, source) << where << "." << key;
  EXPECT_DOUBLE_EQ(v.si, si_of(text)) << where << "." << key;
  EXPECT_FALSE(source.empty());
}

const std::array<std::string, 5> kLayerNames = {
    "stratum_corneum", "viable_epidermis", "papillary_dermis", "reticular_dermis", "hypodermis"};

}  // namespace

TEST(Atlas, EveryValueHasUnitAndSource) {
  const toml::table doc = toml::parse_file(kAtlas);
  // Walk every inline {value, source} table in the file.
  int values = 0;
  std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& t,
                                                                         const std::string& path) {
    if (t.contains("value")) {
      ++values;
      const std::string v = t["value"].value_or(std::string());
      const std::string s = t["source"].value_or(std::string());
      EXPECT_FALSE(v.empty()) << path;
      EXPECT_TRUE(
          std::regex_search(s, std::regex("^assumed: .{10,}|[A-Z][a-z]+.* (19|20)[0-9]{2}")))
          << path << ": source '" << s << "' is neither a citation nor 'assumed: <why>'";
      return;
    }
    for (auto&& [k, n] : t) {
      if (n.is_table()) walk(*n.as_table(), path + "." + std::string(k.str()));
    }
  };
  walk(doc, "");
  EXPECT_GE(values, 90);
}

TEST(Atlas, ReproducesEveryValueOfTheDataFile) {
  const Atlas a = Atlas::load(kAtlas);
  const toml::table doc = toml::parse_file(kAtlas);

  const toml::table& age = *doc["modifiers"]["age"].as_table();
  expect_value(age, "reference_age", a.age().reference_age, "age");
  expect_value(age, "epidermis_loss_per_decade_male", a.age().epidermis_loss_male, "age");
  expect_value(age, "epidermis_loss_per_decade_female", a.age().epidermis_loss_female, "age");
  expect_value(age, "dermis_loss_per_decade", a.age().dermis_loss, "age");
  expect_value(age, "minimum_factor", a.age().minimum_factor, "age");
  expect_value(*doc["modifiers"]["sex"].as_table(), "epidermis_male_factor",
               a.epidermis_male_factor(), "sex");
  for (int t = 1; t <= 6; ++t) {
    expect_value(*doc["modifiers"]["fitzpatrick"].as_table(), "type_" + std::to_string(t),
                 a.fitzpatrick_activity(t), "fitzpatrick");
  }

  const toml::table& defs = *doc["defaults"].as_table();
  const toml::table& sites = *doc["sites"].as_table();
  const std::set<std::string> required = {
      "forehead",       "glabella",     "temple",        "periorbital", "nasal_dorsum",
      "nasal_sidewall", "medial_cheek", "lateral_cheek", "upper_lip",   "chin",
      "jawline",        "neck",         "abdomen",       "thigh"};
  EXPECT_GE(a.sites().size(), 14u);
  EXPECT_EQ(a.sites().size(), sites.size());
  for (const auto& r : required) EXPECT_NE(a.find(r), nullptr) << r;

  for (const SiteEntry& s : a.sites()) {
    const toml::table& st = *sites[s.key].as_table();
    EXPECT_EQ(s.name, st["name"].value_or(std::string()));
    expect_value(st, "epidermis", s.epidermis, s.key);
    expect_value(st, "dermis_female", s.dermis_female, s.key);
    expect_value(st, "dermis_male", s.dermis_male, s.key);
    // Overridable values: the site's own entry if present, else [defaults].
    for (const auto& [key, v] : std::vector<std::pair<std::string, const io::DataValue*>>{
             {"stratum_corneum", &s.stratum_corneum},
             {"papillary_fraction", &s.papillary_fraction},
             {"melanocyte_density", &s.melanocyte_density},
             {"tension", &s.tension}}) {
      expect_value(st.contains(key) ? st : defs, key, *v, s.key);
    }
    for (std::size_t l = 0; l < kLayers; ++l) {
      expect_value(defs, "youngs_" + kLayerNames[l], s.youngs[l], s.key);
      const toml::table& comp = *defs["composition"][kLayerNames[l]].as_table();
      for (std::size_t c = 0; c < kCompositionKeys.size(); ++c) {
        expect_value(comp, kCompositionKeys[c], s.composition[l][c], s.key + "." + kLayerNames[l]);
      }
    }
  }
}

TEST(Atlas, ProfileAtReferenceAgeIsTheAtlas) {
  const Atlas a = Atlas::load(kAtlas);
  const SkinProfile p = a.make_profile("neck", 30.0, Sex::Male, 2, 0.4e-3);
  EXPECT_DOUBLE_EQ(p.thickness[0], 16.8e-6);
  EXPECT_DOUBLE_EQ(p.thickness[1], 45e-6 * 1.07);
  EXPECT_DOUBLE_EQ(p.thickness[2] + p.thickness[3], 0.98e-3);
  EXPECT_DOUBLE_EQ(p.thickness[2], 0.98e-3 * 0.2);
  EXPECT_DOUBLE_EQ(p.thickness[4], 0.4e-3);
  EXPECT_DOUBLE_EQ(p.melanocyte_activity, 0.71);
  EXPECT_DOUBLE_EQ(p.melanocyte_density, 955e6);
  EXPECT_DOUBLE_EQ(p.tension, 8.5);
  EXPECT_DOUBLE_EQ(p.youngs_modulus[4], 2520.0);
  EXPECT_DOUBLE_EQ(p.composition[3].collagen1, 212.5);
  EXPECT_DOUBLE_EQ(p.composition[2].fibroblasts, 2e13);
}

// Worked example 1, by hand: forehead, woman, 55 years, Fitzpatrick IV.
//   decades above the reference age 35: 2.0
//   viable epidermis 50 um x (1 - 0.057 x 2 = 0.886) = 44.3 um
//   dermis 0.86 mm x (1 - 0.06 x 2 = 0.88) = 0.7568 mm -> papillary 20 % = 0.15136 mm,
//   reticular 0.60544 mm; stratum corneum 16.8 um unchanged
//   melanocyte layer at 16.8 + 44.3 = 61.1 um; plexus at 61.1 + 151.36 = 212.46 um
TEST(Atlas, WorkedExampleWoman55) {
  const Atlas a = Atlas::load(kAtlas);
  const SkinProfile p = a.make_profile("forehead", 55.0, Sex::Female, 4, 0.5e-3);
  EXPECT_NEAR(p.thickness[0], 16.8e-6, 1e-15);
  EXPECT_NEAR(p.thickness[1], 44.3e-6, 1e-15);
  EXPECT_NEAR(p.thickness[2], 0.15136e-3, 1e-15);
  EXPECT_NEAR(p.thickness[3], 0.60544e-3, 1e-15);
  EXPECT_NEAR(p.melanocyte_depth, 61.1e-6, 1e-15);
  EXPECT_NEAR(p.plexus_depth, 212.46e-6, 1e-15);
  EXPECT_DOUBLE_EQ(p.melanocyte_activity, 1.07);
  EXPECT_EQ(p.fitzpatrick, 4);
  EXPECT_EQ(p.site, "forehead");
}

// Worked example 2, by hand: upper lip, man, 65 years, Fitzpatrick VI.
//   decades: 3.0
//   viable epidermis 62.6 um x 1.07 (men) x (1 - 0.072 x 3 = 0.784) = 52.513888 um
//   dermis 1.45 mm x (1 - 0.06 x 3 = 0.82) = 1.189 mm -> papillary 0.2378 mm, reticular 0.9512 mm
//   plexus at 16.8 + 52.513888 + 237.8 = 307.113888 um
TEST(Atlas, WorkedExampleMan65) {
  const Atlas a = Atlas::load(kAtlas);
  const SkinProfile p = a.make_profile("upper_lip", 65.0, Sex::Male, 6, 0.5e-3);
  EXPECT_NEAR(p.thickness[1], 52.513888e-6, 1e-15);
  EXPECT_NEAR(p.thickness[2], 0.2378e-3, 1e-15);
  EXPECT_NEAR(p.thickness[3], 0.9512e-3, 1e-15);
  EXPECT_NEAR(p.plexus_depth, 307.113888e-6, 1e-15);
  EXPECT_DOUBLE_EQ(p.melanocyte_activity, 2.0);
  // Younger than the reference age: no thickening.
  const SkinProfile young = a.make_profile("upper_lip", 20.0, Sex::Male, 6, 0.5e-3);
  EXPECT_DOUBLE_EQ(young.thickness[3], 1.45e-3 * 0.8);
  // Far past the data: the floor holds.
  EXPECT_DOUBLE_EQ(a.age_factor(200.0, Sex::Male, false), 0.4);
}

namespace {
// Writes the atlas with one substitution and returns the InputError's line.
std::string load_modified(const std::string& from, const std::string& to) {
  std::string text = mnsim::test::slurp(kAtlas);
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  text.replace(pos, from.size(), to);
  const auto path = std::filesystem::temp_directory_path() / "mnsim_sites_bad.toml";
  std::ofstream(path) << text;
  try {
    Atlas::load(path.string());
  } catch (const InputError& e) {
    return e.line();
  }
  return "no error";
}
}  // namespace

TEST(Atlas, MalformedDataNamesFileLineAndKey) {
  // Line of forehead's dermis_female in the shipped file.
  std::ifstream in(kAtlas);
  std::string l;
  int line = 0, target = 0;
  bool in_forehead = false;
  while (std::getline(in, l)) {
    ++line;
    if (l == "[sites.forehead]") in_forehead = true;
    if (in_forehead && l.rfind("dermis_female", 0) == 0) {
      target = line;
      break;
    }
  }
  ASSERT_GT(target, 0);
  const std::string bad_unit = load_modified("dermis_female = { value = \"0.86 mm\"",
                                             "dermis_female = { value = \"0.86 mmm\"");
  EXPECT_NE(bad_unit.find("mnsim_sites_bad.toml:" + std::to_string(target) + ":"),
            std::string::npos)
      << bad_unit;
  EXPECT_NE(bad_unit.find("sites.forehead.dermis_female.value"), std::string::npos) << bad_unit;
  EXPECT_NE(bad_unit.find("unknown length unit 'mmm'"), std::string::npos) << bad_unit;

  const std::string no_source = load_modified(
      "dermis_male = { value = \"1.17 mm\", source = \"Meng Y et al. 2022, BMC Med Imaging 22:113, "
      "Table 2\" }",
      "dermis_male = { value = \"1.17 mm\" }");
  EXPECT_NE(no_source.find("sites.forehead.dermis_male: missing 'source'"), std::string::npos)
      << no_source;

  const std::string typo = load_modified("[sites.forehead]\nname = \"forehead\"",
                                         "[sites.forehead]\nname = \"forehead\"\ndermis_femal = 1");
  EXPECT_NE(typo.find("did you mean 'dermis_female'?"), std::string::npos) << typo;

  const std::string range = load_modified("value = \"0.86 mm\"", "value = \"-0.86 mm\"");
  EXPECT_NE(range.find("out of range"), std::string::npos) << range;
}
