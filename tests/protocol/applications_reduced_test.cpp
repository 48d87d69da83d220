// Topical applications in the reduced model (docs/substances.md, "In the reduced model"): PRP
// changes the healing outcome through its platelets, saline equals no application bit for bit,
// solutes report their delivered dose, the numbers do not depend on the thread count, cohort
// files carry [[protocol.application]] with one-line errors, and the planner gives its
// [[application]] to every candidate and writes it in its outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/constants.hpp"
#include "core/error.hpp"
#include "healing/column_substances.hpp"
#include "io/checkpoint.hpp"
#include "lesions/registry.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/cohort.hpp"
#include "protocol/plan.hpp"
#include "protocol/reduced.hpp"
#include "support/files.hpp"

namespace mnsim::protocol {
namespace {

const ReducedModel& M() {
  static const ReducedModel m = ReducedModel::load_default();
  return m;
}

healing::Application applied(const std::string& agent) {
  healing::Application a;
  a.agent = agent;
  a.vehicle = agent == "prp" ? "plasma" : "aqueous";
  a.film = 20e-6;
  a.contact = 4 * kHour;
  if (agent == "tranexamic_acid") a.concentration = 50.0;
  return a;
}

ReducedProtocol pen(std::vector<healing::Application> apps) {
  ReducedProtocol pr;
  SessionDevice d;
  d.device.kind = "pen";
  d.device.model = "dermapen_2012";
  d.device.settings.set_quantity("depth", 1.0e-3, Dim::Length, "1.0 mm", {"test", 1, 1});
  d.technique = devices::Technique::defaults();
  d.technique.passes = 2;
  pr.device = d;
  pr.sessions = 2;
  pr.follow_up = 4 * kWeek;
  pr.applications = std::move(apps);
  return pr;
}

PatientSpec patient() {
  PatientSpec pt;
  pt.age_years = 30;
  pt.scars.push_back(outcomes::scar_geometry(
      *lesions::mid_range_lesion("rolling", lesions::default_lesion_data())));
  return pt;
}

TEST(ReducedApplications, PrpChangesTheHealingAndSalineChangesNothing) {
  const PatientOutcome none = M().simulate(patient(), pen({}));
  const PatientOutcome saline = M().simulate(patient(), pen({applied("saline")}));
  const PatientOutcome prp = M().simulate(patient(), pen({applied("prp")}));
  // Saline is the vehicle alone: the same course bit for bit.
  EXPECT_EQ(saline.papillary_collagen_change, none.papillary_collagen_change);
  EXPECT_EQ(saline.depth_reduction_pct, none.depth_reduction_pct);
  ASSERT_EQ(saline.applications.size(), 1u);
  EXPECT_EQ(saline.applications[0].delivered, 0.0);
  // PRP's growth factors went into the open channels below the stratum corneum, each session.
  ASSERT_EQ(prp.applications.size(), 1u);
  const auto& a = prp.applications[0];
  RecordProperty("prp_delivered_ng_per_cm2", std::to_string(a.delivered));
  RecordProperty("collagen_change_prp", std::to_string(prp.papillary_collagen_change));
  RecordProperty("collagen_change_none", std::to_string(none.papillary_collagen_change));
  EXPECT_GT(a.delivered, 0.0);
  EXPECT_LE(a.delivered, a.applied * (1.0 + 1e-12));
  EXPECT_EQ(a.by_layer[0], 0.0);  // not into the stratum corneum
  EXPECT_GT(a.by_layer[2], 0.0);  // papillary dermis
  // The healing saw it.
  EXPECT_NE(prp.papillary_collagen_change, none.papillary_collagen_change);
}

TEST(ReducedApplications, SoluteDoseIsReportedAndEncoded) {
  const PatientOutcome o = M().simulate(patient(), pen({applied("tranexamic_acid")}));
  ASSERT_EQ(o.applications.size(), 1u);
  const auto& a = o.applications[0];
  // 50 mg/mL x 20 um = 100 ug/cm^2 per session, two sessions.
  EXPECT_NEAR(a.applied, 200.0, 1e-9);
  EXPECT_GT(a.delivered, 0.0);
  EXPECT_LT(a.delivered, a.applied);
  // MPI ranks send outcomes as bytes: the doses come back bit for bit.
  io::ByteWriter w;
  encode_outcome(w, o);
  const std::string bytes = w.take();
  io::ByteReader r(bytes, "test", "outcome");
  const PatientOutcome back = decode_outcome(r);
  ASSERT_EQ(back.applications.size(), 1u);
  EXPECT_EQ(back.applications[0].delivered, a.delivered);
  EXPECT_EQ(back.applications[0].by_layer, a.by_layer);
}

TEST(ReducedApplications, TranexamicAcidTakesItsShareOfTheMelanogenicStimulus) {
  // Fitzpatrick V, the 3D example's skin (docs/substances.md: 1% less melanin a week later).
  PatientSpec pt = patient();
  pt.fitzpatrick = 5;
  const PatientOutcome saline = M().simulate(pt, pen({applied("saline")}));
  const PatientOutcome txa = M().simulate(pt, pen({applied("tranexamic_acid")}));
  RecordProperty("melanin_peak_saline", std::to_string(saline.melanin_peak));
  RecordProperty("melanin_peak_txa", std::to_string(txa.melanin_peak));
  // Less melanin and a lower risk, but only a little: the drug clears within hours while the
  // inflammatory stimulus lasts days (the 3D run's finding).
  EXPECT_LT(txa.melanin_peak, saline.melanin_peak);
  EXPECT_GT(txa.melanin_peak, 0.9 * saline.melanin_peak);
  EXPECT_LE(txa.pih_risk, saline.pih_risk);
  // Nothing else changes: the block acts on the melanin excess alone.
  EXPECT_EQ(txa.papillary_collagen_change, saline.papillary_collagen_change);
  EXPECT_EQ(txa.erythema_days, saline.erythema_days);
}

TEST(ReducedApplications, TheMelanogenicBlockFollowsItsClosedForm) {
  // A constant production P per step and a constant concentration C: the excess with the block
  // is the unblocked excess times (1 - s C / (C + K)) exactly (linear, production-driven).
  healing::ColumnApplications ca;
  const healing::SubstanceData& d = healing::SubstanceData::defaults();
  const healing::Agent& g = d.agents.at("tranexamic_acid");
  const double K = g.half_inhibition_um * g.molecular_weight * 1e-3;  // ug/mL
  ca.epidermis.push_back({"tranexamic_acid", {0.0, 1000.0}, {3.0 * K, 3.0 * K}});
  const double tau = 672.0, dt = 2.0, P = 0.01;
  std::vector<double> t, mel;
  double m = 0.0;
  for (int n = 0; n <= 100; ++n) {
    t.push_back(n * dt);
    mel.push_back(m);
    m = m * std::exp(-dt / tau) + P;
  }
  const std::vector<double> out = healing::melanin_with_block(ca, d, tau, t, mel);
  const double keep = 1.0 - g.plasmin_share * 0.75;
  ASSERT_EQ(out.size(), mel.size());
  for (std::size_t n = 0; n < out.size(); ++n) EXPECT_NEAR(out[n], keep * mel[n], 1e-12) << n;
  // No blocking agent (minoxidil has no plasmin share): unchanged.
  ca.epidermis[0].agent = "minoxidil";
  EXPECT_EQ(healing::melanin_with_block(ca, d, tau, t, mel), mel);
}

const char* kCohort = R"(seed = 5
[population]
size = 6
[population.scars]
rolling = 2
[variability]
collagen_synthesis = 0.2
[protocol]
sessions = 2
interval = "4 weeks"
follow_up = "4 weeks"
[protocol.device]
kind = "pen"
model = "dermapen_2012"
depth = "1.0 mm"
[protocol.technique]
passes = 2
)";

TEST(ReducedApplications, CohortArmsCarryApplicationsWhateverTheThreads) {
  const std::string path =
      mnsim::test::write_temp_file("mnsim_apps_cohort.toml", std::string(kCohort) + R"(
[[protocol.application]]
agent = "prp"
vehicle = "plasma"
[[protocol.application]]
agent = "tranexamic_acid"
concentration = "20 mg/mL"
session = 2
)");
  const CohortSpec c = load_cohort(path);
  ASSERT_EQ(c.arms.size(), 1u);
  ASSERT_EQ(c.arms[0].protocol.applications.size(), 2u);
  EXPECT_EQ(c.arms[0].protocol.applications[1].session, 2);
  const CohortResult one = run_cohort(M(), c, 1);
  const CohortResult two = run_cohort(M(), c, 2);
  EXPECT_EQ(cohort_json(one), cohort_json(two));
  EXPECT_EQ(patients_csv(one.arms[0]), patients_csv(two.arms[0]));
  const auto j = nlohmann::json::parse(cohort_json(one));
  ASSERT_EQ(j["applications"].size(), 2u);
  EXPECT_EQ(j["applications"][0]["agent"], "prp");
  EXPECT_GT(j["applications"][0]["delivered"]["mean"].get<double>(), 0.0);
  // Tranexamic acid after the second session only: 20 mg/mL x 20 um = 40 ug/cm^2.
  EXPECT_NEAR(j["applications"][1]["applied"]["mean"].get<double>(), 40.0, 1e-9);
  EXPECT_NE(patients_csv(one.arms[0]).find(",prp_delivered,tranexamic_acid_delivered"),
            std::string::npos);
}

std::string cohort_error(const std::string& name, const std::string& text) {
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

TEST(ReducedApplications, BadApplicationsAreOneLineErrorsAtTheKey) {
  const std::string c = kCohort;
  EXPECT_NE(cohort_error("mnsim_apps_bad1.toml", c + "[[protocol.application]]\nagent = \"txa\"\n")
                .find("protocol.application[0].agent"),
            std::string::npos);
  EXPECT_NE(
      cohort_error("mnsim_apps_bad2.toml", c + "[[protocol.application]]\nagent = \"minoxidil\"\n")
          .find("protocol.application[0].concentration: minoxidil needs its concentration"),
      std::string::npos);
  EXPECT_NE(cohort_error("mnsim_apps_bad3.toml", c + "[[protocol.application]]\nagent = "
                                                     "\"prp\"\nsession = 3\n")
                .find("protocol.application[0].session: session 3 is past the course's 2"),
            std::string::npos);
  EXPECT_NE(cohort_error("mnsim_apps_bad4.toml",
                         c + "[[protocol.application]]\nagent = \"prp\"\nfilm = \"3 mm\"\n")
                .find("protocol.application[0].film"),
            std::string::npos);
}

TEST(ReducedApplications, ThePlannerGivesTheApplicationToEveryCandidate) {
  const std::string path = mnsim::test::write_temp_file("mnsim_apps_plan.toml", R"(
[patient]
site = "medial_cheek"
age = "30 years"
[inventory]
rolling = 1
[search]
devices = ["dermapen_2012"]
expand = 1
replicates = 0
posterior_draws = 0
sessions_max = 2
top = 2
[[application]]
agent = "prp"
vehicle = "plasma"
)");
  PlanPatient p = load_plan_patient(path);
  ASSERT_EQ(p.applications.size(), 1u);
  p.intervals = {4 * kWeek};
  const Plan plan = make_plan(M(), p, 2);
  ASSERT_FALSE(plan.ranked.empty());
  for (const PlanEntry& e : plan.evaluated) {
    ASSERT_EQ(e.protocol.applications.size(), 1u);
    if (e.excluded.empty()) {
      ASSERT_EQ(e.nominal.applications.size(), 1u);
      EXPECT_GT(e.nominal.applications[0].delivered, 0.0);
    }
  }
  EXPECT_NE(plan_csv(plan).find(",prp_delivered\n"), std::string::npos);
  const auto j = nlohmann::json::parse(plan_json(p, plan));
  EXPECT_EQ(j["ranked"][0]["outcome"]["applications"][0]["agent"], "prp");
  // The exported scenario carries it, and reads back as the same application.
  const std::string s = plan_scenario(p, plan, 1, "", "test");
  EXPECT_NE(s.find("[[application]]\nagent = \"prp\"\nvehicle = \"plasma\""), std::string::npos)
      << s;
}

}  // namespace
}  // namespace mnsim::protocol
