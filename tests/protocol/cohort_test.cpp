// Cohorts: reproducible from the seed, independent of the thread count, outputs as documented,
// bad files rejected with file:line:col; the shipped reference cases of `mnsim validate`.
#include <gtest/gtest.h>

#include <map>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "io/output_folder.hpp"
#include "protocol/cohort.hpp"
#include "protocol/plan.hpp"
#include "protocol/validate.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"
#include "support/files.hpp"

namespace mnsim::protocol {
namespace {

using mnsim::test::slurp;

const ReducedModel& M() {
  static const ReducedModel m = ReducedModel::load_default();
  return m;
}

std::string write_tmp(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p.string();
}

const char* kCohort = R"(seed = 11
[population]
size = 24
min_baseline_grade = 2
[population.fitzpatrick]
type_1 = 1
type_6 = 1
[population.scars]
icepick = 1
boxcar_shallow = 3
rolling = 2
[variability]
collagen_synthesis = 0.3
melanin_rate = 0.3
[protocol]
sessions = 3
)";

TEST(Cohort, ReproducibleAndThreadIndependent) {
  const CohortSpec c = load_cohort(write_tmp("mnsim_cohort_a.toml", kCohort));
  const std::string a = cohort_json(run_cohort(M(), c, 1));
  const std::string b = cohort_json(run_cohort(M(), c, 2));
  EXPECT_EQ(a, b);
  EXPECT_EQ(patients_csv(run_cohort(M(), c, 1).arms[0]),
            patients_csv(run_cohort(M(), c, 2).arms[0]));
  CohortSpec d = c;
  d.seed = 12;
  EXPECT_NE(cohort_json(run_cohort(M(), d, 2)), a);
}

TEST(Cohort, OutputsHaveTheDocumentedKeys) {
  const CohortSpec c = load_cohort(write_tmp("mnsim_cohort_b.toml", kCohort));
  const CohortResult r = run_cohort(M(), c, 2);
  const auto j = nlohmann::json::parse(cohort_json(r));
  EXPECT_EQ(j.at("n").get<int>(), 24);
  for (const char* k : {"quantitative", "qualitative"}) {
    for (const char* s : {"before_mean", "before_sd", "after_mean", "after_sd"}) {
      EXPECT_TRUE(j.at("goodman_baron").at(k).contains(s)) << k << "." << s;
    }
  }
  for (const char* k : {"improved_1_grade_fraction", "improved_2_grades_fraction", "pih_incidence",
                        "erythema_days_mean", "scar_depth_reduction_pct_mean"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  // Inclusion criterion holds; Fitzpatrick only I and VI drawn.
  for (const auto& row : r.arms[0].rows) {
    EXPECT_GE(row.outcome.gb_qual_before, 2);
    EXPECT_TRUE(row.patient.spec.fitzpatrick == 1 || row.patient.spec.fitzpatrick == 6);
  }
  const std::string csv = patients_csv(r.arms[0]);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 25);
  const auto dir = std::filesystem::temp_directory_path() / "mnsim_cohort_out";
  std::filesystem::remove_all(dir);
  CohortRunOptions o;
  o.out_dir = dir;
  o.threads = 2;
  const CohortRun written = run_cohort(M(), c, o);
  EXPECT_EQ(slurp(dir / "cohort.json"), cohort_json(written.result));
  EXPECT_EQ(slurp(dir / "patients.csv"), csv);
  EXPECT_FALSE(std::filesystem::exists(dir / "checkpoint"));
  EXPECT_EQ(mnsim::io::output_state(dir), "complete");
}

TEST(Cohort, BadFileIsAOneLineErrorAtTheKey) {
  const std::string path = write_tmp("mnsim_cohort_bad.toml", "[population]\nsize = -3\n");
  try {
    load_cohort(path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(e.line().find(path + ":2:"), std::string::npos) << e.line();
    EXPECT_NE(e.line().find("population.size"), std::string::npos) << e.line();
  }
}

TEST(Cohort, NeedleLengthTheRollerIsNotMadeWithIsAnErrorAtTheKey) {
  // The reduced model builds the catalog roller internally; the error still names the cohort file.
  const std::string path =
      write_tmp("mnsim_cohort_length.toml", "[protocol]\nneedle_length = \"1.2 mm\"\n");
  try {
    load_cohort(path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(e.line().find(path + ":2:"), std::string::npos) << e.line();
    EXPECT_NE(e.line().find("protocol.needle_length"), std::string::npos) << e.line();
    EXPECT_NE(e.line().find("1.5 mm"), std::string::npos) << e.line();  // the lengths offered
  }
}

TEST(Plan, RespectsConstraintsAndRanks) {
  const std::string path = write_tmp("mnsim_plan.toml", R"(
[patient]
site = "medial_cheek"
fitzpatrick = 5
[[scars]]
kind = "boxcar"
depth = "0.3 mm"
width = "2.5 mm"
[[scars]]
kind = "rolling"
depth = "0.3 mm"
width = "5 mm"
[search]
replicates = 5
top = 5
sessions_max = 3
)");
  const PlanPatient p = load_plan_patient(path);
  const Plan plan = make_plan(M(), p, 2);
  ASSERT_FALSE(plan.ranked.empty());
  const double cap = M().outcome.pih_cap[4];
  for (std::size_t i = 0; i < plan.ranked.size(); ++i) {
    const auto& e = plan.ranked[i];
    EXPECT_LE(e.nominal.depth_reached, plan.dermis_bottom);
    EXPECT_LE(e.nominal.pih_risk, cap);
    EXPECT_LE(e.nominal.erythema_days, 3.0);
    EXPECT_LE(e.variability_band.p10, e.variability_band.p90);
    EXPECT_LE(e.parameter_band.p10, e.parameter_band.p90);
    EXPECT_EQ(e.variability_band.draws, 5);
    EXPECT_EQ(e.parameter_band.draws, 20);  // the default posterior_draws
    if (i > 0) {
      EXPECT_LE(e.nominal.depth_reduction_pct, plan.ranked[i - 1].nominal.depth_reduction_pct);
    }
  }
  EXPECT_GT(plan.excluded_depth, 0);  // 2.5 mm needles reach past the cheek dermis
}

// The reference cases the model fails (data/validation.toml says by how much and why in each
// case's note). Nothing is tuned to make them pass; a case that starts passing (or another that
// starts failing) fails the test below, so this list, the notes and docs/cohort.md stay true.
const std::set<std::string>& failing_cases() {
  static const std::set<std::string> ids = {"majid_grades"};
  return ids;
}

// Reference cases (data/validation.toml): every case passes except the listed failures.
TEST(Validation, ReferenceCases) {
  const ValidationSet set = load_validation(default_validation_path());
  const auto rows = run_validation(M(), set, 2);
  EXPECT_EQ(rows.size(), 12u);
  for (const auto& r : rows) {
    RecordProperty(r.c->id, std::to_string(r.predicted));
    const bool listed = failing_cases().count(r.c->id) > 0;
    EXPECT_EQ(r.pass, !listed) << r.c->id << ": predicted " << r.predicted << ", window ["
                               << r.c->low << ", " << r.c->high << "]"
                               << (listed ? " (listed as failing)" : "");
    if (listed) {
      EXPECT_FALSE(r.c->note.empty()) << r.c->id << ": a failing case needs its note";
    }
  }
}

// Calibration is kept apart from validation: every calibration case lists the entries fitted to
// it (load_validation checks each is marked calibrated and names the case), every calibrated
// entry that names a case is listed by that case, and at least the shipped checks stay checks.
TEST(Validation, CalibrationCasesAndFittedEntriesNameEachOther) {
  const ValidationSet set = load_validation(default_validation_path());
  std::map<std::string, const ValidationCase*> by_id;
  int calibration = 0, checks = 0;
  for (const auto& c : set.cases) {
    by_id[c.id] = &c;
    (c.calibration ? calibration : checks) += 1;
    EXPECT_EQ(c.calibration, !c.fitted.empty()) << c.id;
  }
  EXPECT_EQ(calibration, 5);
  EXPECT_EQ(checks, 7);
  // No grading rule or study population is fitted to a case (issue 17, item 6), nor the scar
  // remodelling (issue 17, items 1-2: the scar fibroblast phenotype replaced scar_susceptibility).
  ASSERT_TRUE(by_id.count("majid_grades"));
  EXPECT_FALSE(by_id.at("majid_grades")->calibration);
  ASSERT_TRUE(by_id.count("lotfi_boxcar_rolling"));
  EXPECT_FALSE(by_id.at("lotfi_boxcar_rolling")->calibration);
  EXPECT_FALSE(calibrated_entries().count("healing.toml:matrix.scar_susceptibility"));
  for (const auto& c : set.cases) {
    for (const auto& f : c.fitted) EXPECT_EQ(f.rfind("grading.toml:", 0), std::string::npos) << f;
  }
  int named = 0;
  for (const auto& [entry, source] : calibrated_entries()) {
    for (const auto& [id, c] : by_id) {
      if (source.find("validate case " + id + ";") == std::string::npos) continue;
      ++named;
      EXPECT_TRUE(c->calibration) << entry << " names the check " << id;
      EXPECT_NE(std::find(c->fitted.begin(), c->fitted.end(), entry), c->fitted.end())
          << entry << " names " << id << ", which does not list it";
    }
  }
  EXPECT_EQ(named, 5);  // collagen, epidermis, PIH, erythema, barrier
  // Calibrated entries fitted to figures outside mnsim validate (penetration, channel closure)
  // name their reference instead.
  for (const char* e : {"mechanics.toml:penetration.modulus_factor",
                        "healing.toml:epidermis.keratinocyte_motility"}) {
    ASSERT_TRUE(calibrated_entries().count(e)) << e;
    EXPECT_EQ(calibrated_entries().at(e).find("validate case"), std::string::npos) << e;
  }
}

// The Majid and Alam cases use their own populations (data/validation_majid2009.toml,
// validation_alam2014.toml); the other cohort case uses the file's default population. All three
// carry the one acne-face scar mix (docs/cohort.md, "Study populations"): Majid the whole-face
// means of the default population, Alam (one half face) half of them; none is chosen per case.
TEST(Validation, StudyPopulations) {
  const ValidationSet set = load_validation(default_validation_path());
  const std::vector<double>& face = set.cohort.population.scar_means;
  double total = 0;
  for (double m : face) total += m;
  EXPECT_NEAR(total, 24.0, 0.01);  // scars per face (Dreno 2018: about 12 per half face)
  for (const auto& c : set.cases) {
    if (c.id == "majid_grades") {
      ASSERT_TRUE(c.cohort.has_value());
      EXPECT_EQ(c.cohort->seed, 2009u);
      EXPECT_DOUBLE_EQ(c.cohort->population.fitzpatrick_weights[3], 0.5);
      EXPECT_EQ(c.cohort->population.scar_means, face);
    } else if (c.id == "alam_gb_6_months") {
      ASSERT_TRUE(c.cohort.has_value());
      EXPECT_DOUBLE_EQ(c.cohort->population.age_min, 20.0);
      EXPECT_DOUBLE_EQ(c.cohort->population.age_max, 65.0);
      ASSERT_EQ(c.cohort->population.scar_means.size(), face.size());
      for (std::size_t i = 0; i < face.size(); ++i) {
        EXPECT_NEAR(c.cohort->population.scar_means[i], 0.5 * face[i], 0.006) << i;
      }
    } else {
      EXPECT_FALSE(c.cohort.has_value()) << c.id;
    }
  }
}

}  // namespace
}  // namespace mnsim::protocol

namespace mnsim::protocol {
namespace {

// The cross-check entry point for the 3D engine: a full scenario, the device given by depth and
// density. Same answer as the reduced model driven directly with the scenario's profile and scars.
TEST(PredictScenario, MatchesTheReducedModelOnTheScenarioSkin) {
  const std::string path = write_tmp("mnsim_predict.toml", R"(seed = 5
[patient]
site = "medial_cheek"
fitzpatrick = 3
[tissue]
width = "10 mm"
length = "10 mm"
[[lesions]]
kind = "boxcar"
x = "3 mm"
y = "3 mm"
width = "2.5 mm"
depth = "0.3 mm"
[[lesions]]
kind = "rolling"
x = "7 mm"
y = "7 mm"
width = "4.5 mm"
depth = "0.3 mm"
[course]
sessions = 5
interval = "30 days"
follow_up = "8 weeks"
follow_up_from = "last"
)");
  const Table sc = load_scenario(path);
  const ScenarioPrediction p =
      predict_scenario(read_patch_spec(sc), make_course(sc.table("course")), 1.0e-3, 250e4);
  EXPECT_EQ(p.outcome.scars.size(), 2u);
  EXPECT_GT(p.scar_depth_reduction_pct, 10.0);
  EXPECT_LT(p.scar_depth_reduction_pct, 100.0);
  // Lotfi protocol: papillary collagen in the calibrated window.
  EXPECT_GT(p.collagen_change_pct, 39.9);
  EXPECT_LT(p.collagen_change_pct, 81.8);
  ReducedProtocol pr;
  pr.sessions = 5;
  pr.interval = 30 * 86400.0;
  pr.follow_up = 56 * 86400.0;
  pr.depth_reached = 1.0e-3;
  pr.density = 250e4;
  const skin::SkinPatch patch = skin::make_patch(read_patch_spec(sc));
  std::vector<outcomes::ScarGeometry> scars;
  for (const auto& l : patch.lesions()) scars.push_back(outcomes::scar_geometry(*l));
  const PatientOutcome o = M().simulate(patch.profile(), scars, pr);
  EXPECT_NEAR(o.depth_reduction_pct, p.scar_depth_reduction_pct, 1e-9);
  EXPECT_NEAR(100.0 * o.papillary_collagen_change, p.collagen_change_pct, 1e-9);
}

}  // namespace
}  // namespace mnsim::protocol
