// Any catalog device in cohort protocols, sessions listed one by one, per-patient session counts,
// several outcome times and paired arms (docs/cohort.md, "Devices and sessions", "Arms and paired
// comparisons").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "outcomes/goodman_baron.hpp"
#include "protocol/cohort.hpp"
#include "skin/atlas.hpp"
#include "support/files.hpp"

namespace mnsim::protocol {
namespace {

const ReducedModel& M() {
  static const ReducedModel m = ReducedModel::load_default();
  return m;
}

const char* kPopulation = R"(seed = 5
[population]
size = 12
[population.scars]
boxcar_shallow = 2
rolling = 1
[variability]
collagen_synthesis = 0.2
melanin_rate = 0.3
)";

std::string error_of(const std::string& name, const std::string& text) {
  const std::string path = mnsim::test::write_temp_file(name, text);
  try {
    (void)load_cohort(path);
  } catch (const InputError& e) {
    EXPECT_NE(e.line().find(path + ":"), std::string::npos) << e.line();
    EXPECT_EQ(e.line().find('\n'), std::string::npos) << e.line();
    return e.line();
  }
  ADD_FAILURE() << "no error for " << text;
  return {};
}

TEST(ReducedDevices, TheRollerShorthandIsTheCatalogRollerDevice) {
  const skin::SkinProfile prof =
      skin::default_atlas().make_profile("medial_cheek", 30, skin::Sex::Female, 3);
  const RollerReach r = roller_reach("roller_192_mf8", 1.5e-3, prof);
  const SessionReach s =
      session_reach(roller_session("roller_192_mf8", 1.5e-3, 16), prof, M().params);
  EXPECT_EQ(s.depth, r.depth);
  EXPECT_DOUBLE_EQ(s.density, 16 * r.density_per_pass);
  // The wound after recoil is the calibration's reference channel (data/outcomes.toml).
  EXPECT_NEAR(s.radius, M().outcome.channel_radius, 1e-9);
}

TEST(ReducedDevices, PenDepthSettingAndPassesDriveTheDose) {
  const skin::SkinProfile prof =
      skin::default_atlas().make_profile("forehead", 40, skin::Sex::Male, 2);
  auto pen = [](double depth, int passes) {
    SessionDevice d;
    d.device.kind = "pen";
    d.device.model = "dermapen_2012";
    d.device.settings.set_quantity("depth", depth, Dim::Length, "x", {"test", 1, 1});
    d.technique = devices::Technique::defaults();
    d.technique.passes = passes;
    return d;
  };
  const SessionReach a = session_reach(pen(0.5e-3, 1), prof, M().params);
  const SessionReach b = session_reach(pen(1.5e-3, 1), prof, M().params);
  const SessionReach c = session_reach(pen(1.5e-3, 3), prof, M().params);
  ASSERT_TRUE(a.punctured && b.punctured);
  EXPECT_LT(a.depth, b.depth);
  EXPECT_LE(b.depth, 1.5e-3);
  EXPECT_DOUBLE_EQ(c.density, 3 * b.density);
  // 11 needles at 90 Hz gliding 5 cm/s over a 4 mm tip with 5% overlap.
  EXPECT_NEAR(b.density, 11 * 90 / (0.05 * 4e-3 * 0.95), 1e-6 * b.density);
}

TEST(ReducedDevices, OutcomeTimesDoNotChangeTheStateAtAGivenTime) {
  PatientSpec pt;
  pt.scars.push_back(outcomes::scar_geometry(
      *lesions::mid_range_lesion("boxcar_shallow", lesions::default_lesion_data())));
  ReducedProtocol one;
  one.sessions = 2;
  one.follow_up = 4 * kWeek;
  ReducedProtocol more = one;
  more.also_at = {12 * kWeek, 2 * kWeek};
  const PatientOutcome a = M().simulate(pt, one);
  const PatientOutcome b = M().simulate(pt, more);
  ASSERT_EQ(b.at.size(), 3u);
  EXPECT_EQ(b.at[0].follow_up, 2 * kWeek);
  EXPECT_EQ(b.at[b.headline].follow_up, 4 * kWeek);
  // The headline of the longer run is the 4-week state of the shorter one (the step never
  // depends on the horizon; only the sample grid around 4 weeks differs).
  EXPECT_NEAR(b.papillary_collagen_change, a.papillary_collagen_change,
              2e-3 * std::abs(a.papillary_collagen_change));
  EXPECT_NEAR(b.depth_reduction_pct, a.depth_reduction_pct, 0.2);
  // Collagen keeps changing after the last session.
  EXPECT_NE(b.at[2].papillary_collagen_change, b.at[1].papillary_collagen_change);
}

TEST(CohortArms, PenProtocolListedSessionsCountsAndTimes) {
  const std::string path =
      mnsim::test::write_temp_file("mnsim_arms_pen.toml", std::string(kPopulation) + R"(
[protocol]
interval = "4 weeks"
follow_up = "8 weeks"
[protocol.device]
kind = "pen"
model = "dermapen_2012"
depth = "1.0 mm"
[protocol.technique]
passes = 1
[[protocol.session]]
device = { kind = "pen", model = "dermapen_2012", depth = "0.5 mm" }
[[protocol.session]]
technique = { passes = 2 }
[[protocol.session_counts]]
sessions = 2
weight = 1
[[protocol.session_counts]]
sessions = 4
weight = 1
[[protocol.outcome_times]]
follow_up = "24 weeks"
)");
  const CohortSpec c = load_cohort(path);
  ASSERT_EQ(c.arms.size(), 1u);
  const ReducedProtocol& pr = c.arms[0].protocol;
  EXPECT_EQ(pr.sessions, 2);  // one per listed session
  EXPECT_EQ(pr.session_device(0).device.settings.quantity("depth"), 0.5e-3);
  EXPECT_EQ(pr.session_device(1).device.settings.quantity("depth"), 1.0e-3);
  EXPECT_EQ(pr.session_device(1).technique.passes, 2);
  EXPECT_EQ(pr.session_device(3).technique.passes, 1);
  EXPECT_NE(pr.describe().find("session 1: pen dermapen_2012 0.5 mm x 1 pass"), std::string::npos)
      << pr.describe();
  const CohortResult r = run_cohort(M(), c, 2);
  const ArmResult& a = r.arms[0];
  ASSERT_EQ(a.times.size(), 2u);
  EXPECT_EQ(a.times[a.headline].follow_up, 8 * kWeek);
  std::size_t two = 0, four = 0;
  for (const auto& row : a.rows) {
    EXPECT_TRUE(row.outcome.sessions == 2 || row.outcome.sessions == 4);
    (row.outcome.sessions == 2 ? two : four) += 1;
    EXPECT_EQ(row.outcome.at.size(), 2u);
    // The mean depth reached lies between the shallow first session and the deeper others.
    EXPECT_LT(row.outcome.depth_reached, row.outcome.deepest);
  }
  EXPECT_GT(two, 0u);
  EXPECT_GT(four, 0u);
  double cat = 0, grades = 0;
  for (double f : a.times[0].improvement_fractions) cat += f;
  for (double f : a.times[0].qual_after_fractions) grades += f;
  EXPECT_NEAR(cat, 1.0, 1e-12);
  EXPECT_NEAR(grades, 1.0, 1e-12);
  std::size_t typed = 0;
  for (const auto& t : a.pih_by_fitzpatrick) typed += t.patients;
  EXPECT_EQ(typed, a.rows.size());
  const auto j = nlohmann::json::parse(cohort_json(r));
  EXPECT_EQ(j["times"].size(), 2u);
  EXPECT_TRUE(j["times"][1].contains("improvement_fractions"));
  EXPECT_NE(patients_csv(a).find("scar_depth_reduction_pct_24wk"), std::string::npos);
}

TEST(CohortArms, IdenticalArmsArePairedWithNoDifference) {
  const std::string arm = R"(
[[arms]]
name = "NAME"
[arms.protocol]
needle_length = "1.0 mm"
sessions = 2
)";
  std::string text = kPopulation;
  for (const char* n : {"left", "right"}) {
    std::string a = arm;
    a.replace(a.find("NAME"), 4, n);
    text += a;
  }
  const CohortSpec c = load_cohort(mnsim::test::write_temp_file("mnsim_arms_same.toml", text));
  ASSERT_EQ(c.arms.size(), 2u);
  const CohortResult r = run_cohort(M(), c, 2);
  ASSERT_EQ(r.paired.size(), 1u);
  for (const auto& d : r.paired[0].metrics) {
    EXPECT_EQ(d.mean, 0.0) << d.metric;
    EXPECT_EQ(d.same, 12u) << d.metric;
    EXPECT_EQ(d.p, 1.0) << d.metric;
  }
  EXPECT_EQ(patients_csv(r.arms[0]), patients_csv(r.arms[1]));
  EXPECT_EQ(patients_files(c),
            (std::vector<std::string>{"patients_left.csv", "patients_right.csv"}));
}

TEST(CohortArms, MoreSessionsOnOneSideIsBetterPatientByPatient) {
  std::string text = std::string(kPopulation) + R"(
[[arms]]
name = "two"
[arms.protocol]
needle_length = "1.0 mm"
sessions = 2
[[arms]]
name = "four"
[arms.protocol]
needle_length = "1.0 mm"
sessions = 4
)";
  const CohortResult r =
      run_cohort(M(), load_cohort(mnsim::test::write_temp_file("mnsim_arms_more.toml", text)), 2);
  ASSERT_EQ(r.paired.size(), 1u);
  const PairedDifference& d = r.paired[0].metrics[0];
  ASSERT_EQ(d.metric, "scar_depth_reduction_pct");
  EXPECT_GT(d.mean, 0.0);
  EXPECT_GT(d.ci_low, 0.0);
  EXPECT_LT(d.p, 0.05);
  EXPECT_EQ(d.worse, 0u);
}

TEST(CohortArms, CheckpointRecordsKeepEveryArmAndTime) {
  std::string text = std::string(kPopulation) + R"(
[[arms]]
name = "a"
[arms.protocol]
needle_length = "1.0 mm"
sessions = 2
[[arms.protocol.outcome_times]]
follow_up = "2 weeks"
[[arms]]
name = "b"
[arms.protocol]
needle_length = "0.5 mm"
sessions = 2
)";
  const CohortSpec c = load_cohort(mnsim::test::write_temp_file("mnsim_arms_resume.toml", text));
  const auto dir = std::filesystem::temp_directory_path() / "mnsim_arms_resume_out";
  std::filesystem::remove_all(dir);
  CohortRunOptions o;
  o.out_dir = dir;
  o.threads = 2;
  const CohortRun first = run_cohort(M(), c, o);
  EXPECT_TRUE(std::filesystem::exists(dir / "patients_a.csv"));
  EXPECT_TRUE(std::filesystem::exists(dir / "patients_b.csv"));
  // Every record of a finished run, decoded again, gives the same outputs.
  const std::string json = cohort_json(first.result);
  const std::string rec = mnsim::test::slurp(dir / "checkpoint" / "patients.rec");
  (void)rec;
  o.resume = true;
  o.force = true;
  const CohortRun again = run_cohort(M(), c, o);
  EXPECT_EQ(cohort_json(again.result), json);
}

TEST(CohortArms, BadProtocolsAreOneLineErrorsAtTheKey) {
  const std::string pop = kPopulation;
  EXPECT_NE(error_of("mnsim_arms_bad1.toml", pop + R"(
[protocol]
needle_length = "1.0 mm"
[protocol.device]
kind = "pen"
[protocol.technique]
passes = 2
)")
                .find("protocol.needle_length"),
            std::string::npos);
  EXPECT_NE(error_of("mnsim_arms_bad2.toml", pop + R"(
[protocol.device]
kind = "pen"
)")
                .find("protocol.device"),
            std::string::npos);
  EXPECT_NE(error_of("mnsim_arms_bad3.toml", pop + R"(
[protocol.device]
kind = "pen"
depth = "4 mm"
[protocol.technique]
passes = 2
)")
                .find("protocol.device.depth"),
            std::string::npos);
  EXPECT_NE(error_of("mnsim_arms_bad4.toml", pop + R"(
[protocol]
sessions = 2
[[arms]]
name = "a"
[[arms]]
name = "b"
)")
                .find("protocol.sessions"),
            std::string::npos);
  EXPECT_NE(error_of("mnsim_arms_bad5.toml", pop + R"(
[[arms]]
name = "a"
[[arms]]
name = "a"
)")
                .find("arms[1].name"),
            std::string::npos);
  EXPECT_NE(error_of("mnsim_arms_bad6.toml", pop + R"(
[[arms]]
name = "only"
)")
                .find("arms[0].name"),
            std::string::npos);
  EXPECT_NE(error_of("mnsim_arms_bad7.toml", pop + R"(
[[arms]]
name = "a b"
[[arms]]
name = "c"
)")
                .find("arms[0].name"),
            std::string::npos);
  EXPECT_NE(error_of("mnsim_arms_bad8.toml", pop + R"(
[[protocol.session_counts]]
sessions = 3
weight = 0
)")
                .find("protocol.session_counts[0].weight"),
            std::string::npos);
  EXPECT_NE(error_of("mnsim_arms_bad9.toml", pop + R"(
[[protocol.outcome_times]]
)")
                .find("protocol.outcome_times[0].follow_up"),
            std::string::npos);
  EXPECT_NE(error_of("mnsim_arms_bad10.toml", pop + R"(
[protocol.technique]
passes = 3
)")
                .find("protocol.technique"),
            std::string::npos);
}

TEST(CohortPopulation, BaselineGradeAndScoreRangesHoldForEveryPatient) {
  const CohortSpec c = load_cohort(mnsim::test::write_temp_file("mnsim_pop_ranges.toml", R"(seed = 3
[population]
size = 40
min_baseline_grade = 2
max_baseline_grade = 3
min_baseline_score = 4
max_baseline_score = 9
[population.scars]
boxcar_shallow = 3
rolling = 2
[protocol]
sessions = 1
)"));
  for (std::uint64_t i = 0; i < 40; ++i) {
    const VirtualPatient v = draw_patient(M(), c, i);
    std::vector<outcomes::ScarState> st;
    for (const auto& g : v.spec.scars) st.push_back({g.kind, g.depth, g.width});
    const int qual = outcomes::qualitative_grade(st, M().grading);
    const int quant = outcomes::quantitative_score(st, M().grading);
    EXPECT_GE(qual, 2) << i;
    EXPECT_LE(qual, 3) << i;
    EXPECT_GE(quant, 4) << i;
    EXPECT_LE(quant, 9) << i;
  }
  // A range the inventory cannot reach is an error naming the file, not a cohort of patients
  // outside it.
  const std::string path = mnsim::test::write_temp_file("mnsim_pop_impossible.toml", R"([population]
size = 3
min_baseline_score = 900
[population.scars]
boxcar_shallow = 1
[protocol]
sessions = 1
)");
  const CohortSpec bad = load_cohort(path);
  try {
    (void)run_cohort(M(), bad, 1);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(e.line().find(path), std::string::npos) << e.line();
    EXPECT_NE(e.line().find("inclusion"), std::string::npos) << e.line();
  }
  EXPECT_NE(error_of("mnsim_pop_bad.toml", R"([population]
min_baseline_grade = 3
max_baseline_grade = 2
[population.scars]
rolling = 1
)")
                .find("population.max_baseline_grade"),
            std::string::npos);
}

}  // namespace
}  // namespace mnsim::protocol
