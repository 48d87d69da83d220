// The report data of `mnsim run` (run/report_data.hpp) from a small real tissue and engine with a
// given outcome: the cross-section after the course follows the remodelled surface, figures and
// sentences use words and one unit style, the calendar counts weeks without a start date.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <string>

#include "core/scenario.hpp"
#include "devices/stage.hpp"
#include "healing/engine.hpp"
#include "healing/params.hpp"
#include "run/report_data.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"

namespace mnsim {
namespace {

// A 3 mm patch with one boxcar scar 300 µm deep, two sessions two weeks apart, no start date.
const char* const kScenario = R"(title = "report data"
seed = 3
[patient]
site = "medial_cheek"
fitzpatrick = 4
[tissue]
width = "3 mm"
length = "3 mm"
resolution = "100 um"
[[lesions]]
kind = "boxcar"
x = "1.5 mm"
y = "1.5 mm"
width = "1.6 mm"
depth = "0.3 mm"
[device]
model = "roller_192_mf8"
needle_length = "1.0 mm"
[course]
sessions = 2
interval = "2 weeks"
follow_up = "3 weeks"
follow_up_from = "last"
)";

struct Fixture {
  Table scenario = parse_scenario_text(kScenario, "report_data.toml", scenario_schema());
  ScenarioSpecs specs = read_specs(scenario);
  skin::Tissue tissue = skin::build_tissue(specs.patch);
  healing::Engine engine{tissue, healing::load_default_params().p, specs.engine};
  RunRecord rec;

  Fixture() {
    rec.first_stats = {{"device",
                        {{"kind", "roller"},
                         {"model", "roller_192_mf8"},
                         {"description", "roller 'roller_192_mf8': 192 needles"},
                         {"needles", 192},
                         {"nominal_length_um", 1000.0}}},
                       {"technique", {{"passes", 16}}}};
    for (const char* f : {"inflammatory_signal", "fibroblasts", "collagen1", "vascular"})
      for (const char* l : {"papillary_dermis", "reticular_dermis"})
        for (int k = 0; k < 5; ++k) rec.ts.add(k * 86400.0, f, l, 0.01 * (k + 1));
  }

  report::ReportData data(double depth_after) const {
    Outcome o;
    ScarOutcome s;
    s.type = "boxcar";
    s.depth_before = 0.3e-3;
    s.depth_after = depth_after;
    o.scars.push_back(s);
    o.goodman_baron.qualitative_before = 3;
    o.goodman_baron.qualitative_after = 2;
    o.erythema_days = 1.5;
    o.barrier_recovery_hours = 20;
    o.pih_risk = 0.01;
    o.depth_mean = 0.69e-3;
    o.dermis_bottom = 0.94e-3;
    o.density_mean = 3.0e7;
    ReportText text;
    text.title = "report data";
    text.patient = specs.patch.patient;
    return make_report_data(text, tissue, engine, rec, o, specs.course,
                            devices::treatment_area(specs.patch.tissue));
  }
};

// Depth (µm) of the first tissue row of column i of a cross-section map (NaN rows are air).
double surface_of(const report::Map2D& m, int i) {
  for (int r = 0; r < m.ny; ++r)
    if (std::isfinite(m.v[static_cast<std::size_t>(r * m.nx + i)])) return m.y0 + r * m.dy;
  return NAN;
}

std::size_t air_cells(const report::Map2D& m) {
  std::size_t n = 0;
  for (float v : m.v) n += std::isfinite(v) ? 0 : 1;
  return n;
}

TEST(ReportData, CrossSectionAfterFollowsTheRemodelledSurface) {
  const Fixture fx;
  const report::ReportData changed = fx.data(0.12e-3);  // 300 -> 120 µm
  const report::Map2D& before = changed.cross_section_before;
  const report::Map2D& after = changed.cross_section_after;
  ASSERT_EQ(before.nx, after.nx);
  ASSERT_EQ(before.ny, after.ny);
  const int centre = before.nx / 2;  // the scar's centre column (x = 1.5 mm)
  EXPECT_NEAR(surface_of(before, centre), 300, before.dy + 1);
  EXPECT_NEAR(surface_of(after, centre), 120, after.dy + 1);
  EXPECT_LT(air_cells(after), air_cells(before) / 2);
  // Away from the scar the surface is where it was.
  EXPECT_EQ(surface_of(after, 0), surface_of(before, 0));
  // The surface before is drawn over the map after it.
  ASSERT_EQ(after.outline.size(), static_cast<std::size_t>(after.nx));
  EXPECT_NEAR(after.outline[static_cast<std::size_t>(centre)], 300, 1);
  EXPECT_TRUE(before.outline.empty());
  EXPECT_NE(changed.cross_section_where.find("across 1 of the 1 scar"), std::string::npos)
      << changed.cross_section_where;

  // A scar that did not change: the same hollow before and after.
  const report::ReportData same = fx.data(0.3e-3);
  EXPECT_EQ(air_cells(same.cross_section_after), air_cells(same.cross_section_before));
  EXPECT_EQ(surface_of(same.cross_section_after, centre),
            surface_of(same.cross_section_before, centre));
}

// A word of letters joined by underscores ("inflammatory_signal"): a code name.
bool has_code_name(const std::string& s) {
  for (std::size_t i = 1; i + 1 < s.size(); ++i)
    if (s[i] == '_' && std::isalpha(static_cast<unsigned char>(s[i - 1])) &&
        std::isalpha(static_cast<unsigned char>(s[i + 1])))
      return true;
  return false;
}

bool ascii_unit(const std::string& s) {
  return s.find(" um") != std::string::npos || s.find("^2") != std::string::npos ||
         s.find("^3") != std::string::npos;
}

TEST(ReportData, WordsAndUnitsForAReader) {
  const Fixture fx;
  const report::ReportData d = fx.data(0.2e-3);
  // Time courses under display names with units; no axis labelled "1".
  ASSERT_FALSE(d.series.empty());
  for (const auto& s : d.series) {
    EXPECT_FALSE(has_code_name(s.quantity)) << s.quantity;
    EXPECT_FALSE(has_code_name(s.layer)) << s.layer;
    EXPECT_NE(s.unit, "1") << s.quantity;
    EXPECT_FALSE(s.unit.empty()) << s.quantity;
  }
  EXPECT_EQ(d.series[0].quantity, "Inflammatory signal (relative)");
  // The vascular fraction is shown in percent of the tissue volume.
  for (const auto& s : d.series)
    if (s.quantity == "Blood vessels (% of volume)") {
      ASSERT_FALSE(s.value.empty());
      EXPECT_NEAR(s.value[0], 1.0, 1e-12);  // 0.01 -> 1 %
    }
  // The consultation: the site and the device in words, not their keys.
  const report::Consultation& c = d.consultation;
  std::string summary;
  for (const auto& s : c.summary) summary += s + "\n";
  EXPECT_NE(summary.find("treated on the medial cheek"), std::string::npos) << summary;
  EXPECT_NE(summary.find("a roller with 192 needles 1.00 mm long (Dermaroller MF8-type medical "
                         "roller), 16 passes"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("2 sessions 2 weeks apart"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Fitzpatrick skin type IV"), std::string::npos) << summary;
  EXPECT_FALSE(has_code_name(summary)) << summary;
  ASSERT_EQ(c.scars.size(), 1u);
  EXPECT_NEAR(c.scars[0].before_um, 300, 1e-9);
  EXPECT_NEAR(c.scars[0].after_um, 200, 1e-9);
  EXPECT_EQ(c.scars[0].what, "Boxcar scar 1 (punched-out acne scar), 1.6 mm wide");
  EXPECT_NEAR(c.pih_limit, 0.03, 1e-12);  // type IV
  EXPECT_NEAR(c.dermis_bottom_um, 940, 1e-9);
  ASSERT_FALSE(c.uncertainty.empty());
  // No bands computed (the outcome has none): the report says so, never invents one.
  EXPECT_NE(c.uncertainty[0].find("no uncertainty band was computed"), std::string::npos);
  EXPECT_TRUE(c.bands.empty());
  // One unit style in every sentence and table cell.
  std::vector<std::string> texts = d.scenario_in_words;
  for (const auto& [k, v] : d.numerics) texts.push_back(k + ": " + v);
  for (const auto& r : d.outcomes) texts.push_back(r.measure + r.before + r.after + r.note);
  for (const auto& s : c.summary) texts.push_back(s);
  for (const auto& e : d.calendar) texts.push_back(e.what);
  texts.push_back(d.puncture_density.value_label);
  texts.push_back(d.cross_section_before.y_label);
  for (const auto& t : texts) EXPECT_FALSE(ascii_unit(t)) << t;
}

TEST(ReportData, CalendarCountsVisitsOnceWithoutAStartDate) {
  const Fixture fx;
  const report::ReportData d = fx.data(0.2e-3);
  ASSERT_EQ(d.calendar.size(), 3u);  // two sessions, the assessment
  EXPECT_EQ(d.calendar[0].session, 1);
  EXPECT_EQ(d.calendar[1].session, 2);
  EXPECT_EQ(d.calendar[2].session, 0);
  for (const auto& e : d.calendar) {
    EXPECT_TRUE(e.date.empty());
    EXPECT_EQ(e.what.find("session 1"), std::string::npos) << e.what;
  }
  EXPECT_NEAR(d.calendar[1].day, 14, 1e-9);
  EXPECT_NEAR(d.calendar[2].day, 35, 1e-9);
  EXPECT_NE(d.calendar[0].what.find("16 passes (about 3000 punctures per cm\u00b2)"),
            std::string::npos)
      << d.calendar[0].what;
  EXPECT_NE(d.calendar[2].what.find("3 weeks after the last session"), std::string::npos)
      << d.calendar[2].what;
}

}  // namespace
}  // namespace mnsim
