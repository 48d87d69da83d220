// Cohort populations by scar cause (acne, varicella, surgical: data/causes.toml) and photoageing
// baseline (Glogau type: data/sites.toml [modifiers.photoageing]): what each cause draws, the
// dermis of each Glogau type, determinism, the default unchanged, bad input at file:line:col.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/constants.hpp"
#include "core/error.hpp"
#include "lesions/causes.hpp"
#include "lesions/lesion_data.hpp"
#include "protocol/cohort.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/atlas.hpp"

namespace mnsim::protocol {
namespace {

const ReducedModel& M() {
  static const ReducedModel m = ReducedModel::load_default();
  return m;
}

std::string write_tmp(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p.string();
}

CohortSpec cohort(const std::string& name, const std::string& text) {
  return load_cohort(write_tmp(name, text));
}

const char* kAcne = R"(seed = 5
[population]
size = 200
[population.scars]
icepick = 3
boxcar_shallow = 2
rolling = 1
wrinkle = 4
)";

std::string with(const std::string& extra) {
  return std::string(kAcne) + extra;
}

// The geometry range of an inventory class in data/lesions.toml, in m.
struct Range {
  double w0, w1, d0, d1;
};
Range range_of(const std::string& cls) {
  const lesions::KindData& k = lesions::default_lesion_data().get(cls);
  return {k.width_min.si, k.width_max.si, k.depth_min.si, k.depth_max.si};
}

void expect_in(const outcomes::ScarGeometry& g, const Range& r) {
  EXPECT_GE(g.width, r.w0 - 1e-12);
  EXPECT_LE(g.width, r.w1 + 1e-12);
  EXPECT_GE(g.depth, r.d0 - 1e-12);
  EXPECT_LE(g.depth, r.d1 + 1e-12);
}

TEST(Population, VaricellaScarsAreBoxcarLikeWithTheirOwnCountAndGeometry) {
  const CohortSpec c = cohort("mnsim_pop_var.toml", with("[population.cause]\nvaricella = 1\n"));
  const lesions::ScarCause* v = lesions::default_scar_causes().find("varicella");
  ASSERT_NE(v, nullptr);
  const Range r = range_of("varicella");
  double n = 0, wider_than_acne_boxcars = 0;
  for (std::uint64_t i = 0; i < 200; ++i) {
    const VirtualPatient p = draw_patient(M(), c, i);
    EXPECT_EQ(lesions::scar_cause_names()[static_cast<std::size_t>(p.cause)], "varicella");
    for (const auto& g : p.spec.scars) {
      EXPECT_EQ(g.kind, "boxcar");  // graded as punched-out scars (Jacob 2001)
      expect_in(g, r);
      if (g.width > range_of("boxcar_shallow").w1) ++wider_than_acne_boxcars;
    }
    n += static_cast<double>(p.spec.scars.size());
  }
  // Poisson mean 2.8 (Leung 2001): the mean of 200 patients is within 4 standard errors.
  EXPECT_NEAR(n / 200.0, v->scars.si, 4.0 * std::sqrt(v->scars.si / 200.0));
  EXPECT_GT(wider_than_acne_boxcars, 0);  // up to 5 mm, wider than Jacob's acne boxcars
}

TEST(Population, SurgicalScarsAreLinearTroughsThatGoodmanBaronGrades) {
  const CohortSpec c = cohort("mnsim_pop_surg.toml",
                              "[population]\nmin_baseline_grade = 1\n[population.cause]\n"
                              "surgical = 1\n");
  const Range r = range_of("linear_scar");
  for (std::uint64_t i = 0; i < 50; ++i) {
    const VirtualPatient p = draw_patient(M(), c, i);
    ASSERT_FALSE(p.spec.scars.empty());  // grade >= 1: the scar is graded (as atrophy)
    for (const auto& g : p.spec.scars) {
      EXPECT_EQ(g.kind, "linear_scar");
      expect_in(g, r);  // width across the trough
    }
  }
}

TEST(Population, CauseSharesSplitThePatients) {
  const CohortSpec c =
      cohort("mnsim_pop_mix.toml", with("[population.cause]\nacne = 0.5\nvaricella = 0.3\n"
                                        "surgical = 0.2\n"));
  std::map<std::string, int> count;
  std::map<std::string, std::map<std::string, int>> kinds;
  const std::size_t n = 400;
  for (std::uint64_t i = 0; i < n; ++i) {
    const VirtualPatient p = draw_patient(M(), c, i);
    const std::string cause = lesions::scar_cause_names()[static_cast<std::size_t>(p.cause)];
    ++count[cause];
    for (const auto& g : p.spec.scars) ++kinds[cause][g.kind];
  }
  // Binomial shares: within 4 standard errors.
  for (const auto& [cause, share] :
       std::map<std::string, double>{{"acne", 0.5}, {"varicella", 0.3}, {"surgical", 0.2}}) {
    EXPECT_NEAR(count[cause] / static_cast<double>(n), share,
                4.0 * std::sqrt(share * (1 - share) / static_cast<double>(n)))
        << cause;
  }
  // Each cause its own class mix: acne the population's, the others theirs alone.
  EXPECT_GT(kinds["acne"]["icepick"], 0);
  EXPECT_GT(kinds["acne"]["wrinkle"], 0);
  EXPECT_EQ(kinds["varicella"].size(), 1u);
  EXPECT_GT(kinds["varicella"]["boxcar"], 0);
  EXPECT_EQ(kinds["surgical"].size(), 1u);
  EXPECT_GT(kinds["surgical"]["linear_scar"], 0);
}

TEST(Population, PatientsCsvNamesEachPatientsCauseAndGlogauType) {
  CohortSpec c =
      cohort("mnsim_pop_csv.toml", with("[population.cause]\nacne = 0.5\nvaricella = 0.5\n"
                                        "[population.glogau]\ntype_3 = 1\n"));
  c.population.size = 12;
  const CohortResult r = run_cohort(M(), c, 1);
  const std::string csv = patients_csv(r.arms.at(0));
  ASSERT_EQ(csv.rfind("patient,site,age_years,sex,fitzpatrick,glogau,cause,scars,", 0), 0u);
  // Row i: the cause and type its patient was drawn with.
  std::size_t at = csv.find('\n') + 1;
  for (std::size_t i = 0; i < r.arms[0].rows.size(); ++i) {
    const std::size_t end = csv.find('\n', at);
    std::vector<std::string> cells;
    for (std::size_t a = at, b; a <= end; a = b + 1) {
      b = std::min(csv.find(',', a), end);
      cells.push_back(csv.substr(a, b - a));
    }
    const VirtualPatient& p = r.arms[0].rows[i].patient;
    EXPECT_EQ(cells.at(5), "3");
    EXPECT_EQ(cells.at(6), lesions::scar_cause_names()[static_cast<std::size_t>(p.cause)]);
    EXPECT_EQ(cells.at(7), std::to_string(p.spec.scars.size()));
    at = end + 1;
  }
}

TEST(Population, DrawsAreFixedBySeed) {
  const std::string text = with(
      "[population.cause]\nacne = 0.6\nvaricella = 0.4\n"
      "[population.glogau]\ntype_2 = 1\ntype_4 = 1\n");
  const CohortSpec a = cohort("mnsim_pop_seed.toml", text);
  CohortSpec b = a;
  b.seed = a.seed + 1;
  int differ = 0;
  for (std::uint64_t i = 0; i < 20; ++i) {
    const VirtualPatient p = draw_patient(M(), a, i), q = draw_patient(M(), a, i);
    EXPECT_EQ(p.cause, q.cause);
    EXPECT_EQ(p.spec.glogau, q.spec.glogau);
    ASSERT_EQ(p.spec.scars.size(), q.spec.scars.size());
    for (std::size_t k = 0; k < p.spec.scars.size(); ++k) {
      EXPECT_EQ(p.spec.scars[k].width, q.spec.scars[k].width);
      EXPECT_EQ(p.spec.scars[k].depth, q.spec.scars[k].depth);
    }
    const VirtualPatient s = draw_patient(M(), b, i);
    differ += s.cause != p.cause || s.spec.glogau != p.spec.glogau ||
              s.spec.scars.size() != p.spec.scars.size();
  }
  EXPECT_GT(differ, 0);
}

TEST(Population, WithoutCauseOrGlogauTheDrawsAreTheAcneMixAsBefore) {
  // Empty [population.cause] and all-zero [population.glogau] tables draw nothing: the same
  // patients as a file without them, every one of cause acne without photoageing.
  const CohortSpec a = cohort("mnsim_pop_plain.toml", kAcne);
  const CohortSpec b =
      cohort("mnsim_pop_zero.toml", with("[population.cause]\n[population.glogau]\ntype_3 = 0\n"));
  EXPECT_TRUE(a.population.cause_shares.empty());
  EXPECT_TRUE(b.population.cause_shares.empty());
  for (std::uint64_t i = 0; i < 30; ++i) {
    const VirtualPatient p = draw_patient(M(), a, i), q = draw_patient(M(), b, i);
    EXPECT_EQ(p.cause, 0);
    EXPECT_EQ(p.spec.glogau, 0);
    EXPECT_EQ(p.spec.age_years, q.spec.age_years);
    ASSERT_EQ(p.spec.scars.size(), q.spec.scars.size());
    for (std::size_t k = 0; k < p.spec.scars.size(); ++k) {
      EXPECT_EQ(p.spec.scars[k].kind, q.spec.scars[k].kind);
      EXPECT_EQ(p.spec.scars[k].depth, q.spec.scars[k].depth);
    }
  }
}

TEST(Population, GlogauSetsTheDermisAndTheWrinklesAtRest) {
  const skin::Atlas& at = skin::default_atlas();
  const skin::SkinProfile p0 = at.make_profile("medial_cheek", 50, skin::Sex::Female, 3);
  const skin::SkinProfile p1 = at.make_profile("medial_cheek", 50, skin::Sex::Female, 3, 0.5e-3, 1);
  const skin::SkinProfile p4 = at.make_profile("medial_cheek", 50, skin::Sex::Female, 3, 0.5e-3, 4);
  for (const skin::Layer l : {skin::Layer::PapillaryDermis, skin::Layer::ReticularDermis}) {
    const auto i = static_cast<std::size_t>(skin::layer_index(l));
    EXPECT_EQ(p1.composition[i].collagen1, p0.composition[i].collagen1);  // type I: the atlas
    // Type IV: El-Domyati 2002, sun-exposed skin 9th against 1st decade.
    EXPECT_NEAR(p4.composition[i].collagen1 / p0.composition[i].collagen1, 53.2 / 82.5, 1e-3);
    EXPECT_NEAR(p4.composition[i].collagen3 / p0.composition[i].collagen3, 44.1 / 80.4, 1e-3);
    EXPECT_NEAR(p4.composition[i].elastin / p0.composition[i].elastin, 75.2 / 56.5, 2e-3);
    EXPECT_EQ(p4.composition[i].fibroblasts, p0.composition[i].fibroblasts);
  }
  EXPECT_EQ(p4.thickness, p0.thickness);
  // Types I and II: no wrinkles at rest; III and IV: the population's wrinkles.
  const CohortSpec mild =
      cohort("mnsim_pop_g12.toml", with("[population.glogau]\ntype_1 = 1\ntype_2 = 1\n"));
  const CohortSpec severe =
      cohort("mnsim_pop_g34.toml", with("[population.glogau]\ntype_3 = 1\ntype_4 = 1\n"));
  int wrinkles_mild = 0, wrinkles_severe = 0;
  for (std::uint64_t i = 0; i < 40; ++i) {
    const VirtualPatient a = draw_patient(M(), mild, i), b = draw_patient(M(), severe, i);
    EXPECT_LE(a.spec.glogau, 2);
    EXPECT_GE(b.spec.glogau, 3);
    for (const auto& g : a.spec.scars) wrinkles_mild += g.kind == "wrinkle";
    for (const auto& g : b.spec.scars) wrinkles_severe += g.kind == "wrinkle";
  }
  EXPECT_EQ(wrinkles_mild, 0);
  EXPECT_GT(wrinkles_severe, 40);  // mean 4 per patient
}

TEST(Population, PhotoageingReachesTheHealingModelThroughTheBaselineDermis) {
  // The same patient with and without a Glogau IV dermis: the course's relative dermal collagen
  // change is measured against a smaller baseline and differs; the scar outcome is simulated.
  PatientSpec pt;
  pt.age_years = 55;
  ReducedProtocol pr;
  pr.needle_length = 1.0 * kMm;
  pr.sessions = 1;
  const PatientOutcome a = M().simulate(pt, pr);
  pt.glogau = 4;
  const PatientOutcome b = M().simulate(pt, pr);
  EXPECT_GT(a.papillary_collagen_change, 0.0);
  EXPECT_GT(b.papillary_collagen_change, 0.0);
  EXPECT_GT(std::abs(b.papillary_collagen_change / a.papillary_collagen_change - 1.0), 0.01)
      << a.papillary_collagen_change << " vs " << b.papillary_collagen_change;
  std::printf("papillary collagen change: Glogau none %.4f, IV %.4f; reticular %.4f, %.4f\n",
              a.papillary_collagen_change, b.papillary_collagen_change, a.reticular_collagen_change,
              b.reticular_collagen_change);
}

void expect_error(const std::string& name, const std::string& text, const std::string& line_col,
                  const std::string& key) {
  const std::string path = write_tmp(name, text);
  try {
    load_cohort(path);
    FAIL() << "no error for " << name;
  } catch (const InputError& e) {
    EXPECT_NE(e.line().find(path + ":" + line_col), std::string::npos) << e.line();
    EXPECT_NE(e.line().find(key), std::string::npos) << e.line();
  }
}

TEST(Population, BadCausesAndGlogauAreOneLineErrorsAtTheKey) {
  // kAcne has 8 lines; the cause table starts on line 9.
  expect_error("mnsim_pop_bad_sum.toml", with("[population.cause]\nacne = 0.5\nvaricella = 0.4\n"),
               "10:", "population.cause.acne");
  expect_error("mnsim_pop_bad_name.toml", with("[population.cause]\nsmallpox = 1\n"),
               "10:", "smallpox");
  expect_error("mnsim_pop_bad_share.toml", with("[population.cause]\nvaricella = 1.5\n"),
               "10:", "population.cause.varicella");
  expect_error("mnsim_pop_no_acne_scars.toml",
               "[population]\n[population.cause]\nacne = 0.5\nsurgical = 0.5\n",
               "3:", "population.cause.acne");
  expect_error("mnsim_pop_bad_glogau.toml", with("[population.glogau]\ntype_5 = 1\n"),
               "10:", "type_5");
  expect_error("mnsim_pop_bad_glogau_w.toml", with("[population.glogau]\ntype_2 = -1\n"),
               "10:", "population.glogau.type_2");
}

TEST(Population, ScenarioPatientTakesTheGlogauType) {
  const std::string ok = write_tmp("mnsim_pop_scn.toml", "[patient]\nglogau = 3\n");
  EXPECT_EQ(read_patch_spec(load_scenario(ok)).patient.glogau, 3);
  const std::string bad = write_tmp("mnsim_pop_scn_bad.toml", "[patient]\nglogau = 5\n");
  try {
    load_scenario(bad);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(e.line().find(bad + ":2:"), std::string::npos) << e.line();
    EXPECT_NE(e.line().find("patient.glogau"), std::string::npos) << e.line();
  }
}

}  // namespace
}  // namespace mnsim::protocol
