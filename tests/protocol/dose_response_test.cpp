// `mnsim dose-response`: the grid, its tables, and bad grid files, as a user runs them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "protocol/dose_response.hpp"
#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace {

using mnsim::test::run_cli;

using mnsim::test::write_temp_file;

const char* kSmallGrid =
    "[inventory]\nboxcar_shallow = 1\n[course]\nsessions = 2\nfollow_up = \"4 weeks\"\n"
    "[grid]\ndepth = \"0.25 mm, 0.75 mm\"\npunctures = \"100 /cm^2, 300 /cm^2\"\n"
    "interval = \"4 weeks\"\nfitzpatrick = \"2, 6\"\n"
    "[reference]\ndepth = \"0.75 mm\"\npunctures = \"300 /cm^2\"\nfitzpatrick = 2\n";

TEST(DoseResponse, EveryGridPointOnceAndTheSameForAnyThreadCount) {
  const auto spec =
      mnsim::protocol::load_dose_response(write_temp_file("mnsim_dr_small.toml", kSmallGrid));
  ASSERT_EQ(spec.depths.size(), 2u);
  ASSERT_EQ(spec.fitzpatrick, (std::vector<int>{2, 6}));
  const auto model = mnsim::protocol::ReducedModel::load_default();
  const auto one = mnsim::protocol::run_dose_response(model, spec, 1);
  const auto two = mnsim::protocol::run_dose_response(model, spec, 2);
  ASSERT_EQ(one.points.size(), 8u);
  EXPECT_EQ(mnsim::protocol::dose_response_csv(one), mnsim::protocol::dose_response_csv(two));
  // Skin type changes the melanocytes only: the same matrix, a higher PIH risk for type VI.
  for (std::size_t i = 0; i + 1 < one.points.size(); i += 2) {
    const auto& a = one.points[i];
    const auto& b = one.points[i + 1];
    ASSERT_EQ(a.fitzpatrick, 2);
    ASSERT_EQ(b.fitzpatrick, 6);
    EXPECT_GT(b.outcome.pih_risk, a.outcome.pih_risk);
    EXPECT_DOUBLE_EQ(b.outcome.papillary_collagen_change, a.outcome.papillary_collagen_change);
  }
  const std::string md = mnsim::protocol::dose_response_markdown(spec, one);
  EXPECT_NE(md.find("| depth reached |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.75 mm |"), std::string::npos) << md;
  // The Fitzpatrick rows end with their own PIH risk (the reference depth and density).
  for (const auto& p : one.points) {
    if (p.depth != spec.ref_depth || p.density != spec.ref_density) continue;
    const std::string tail = fmt::format("| {:.1f} % |\n", 100.0 * p.outcome.pih_risk);
    EXPECT_NE(md.find(fmt::format("| {}", p.fitzpatrick)), std::string::npos) << md;
    EXPECT_NE(md.find(tail), std::string::npos) << tail << md;
  }
  // Under the tables, the reference point's score row by row and why it moved, and how often
  // the score rose over the grid.
  int rose = 0;
  for (const auto& p : one.points) rose += p.outcome.gb_quant_after > p.outcome.gb_quant_before;
  EXPECT_NE(md.find("G&B score at the reference point, row by row"), std::string::npos) << md;
  EXPECT_NE(md.find(fmt::format("The score rose at {} of the 8 grid points", rose)),
            std::string::npos)
      << md;
}

TEST(DoseResponse, DeeperBleedingTracksReddenLonger) {
  // Erythema is the redness seen from above through the dermis (healing::erythema_seen): a
  // deeper track cuts more of the reticular dermis's vessels, whose blood is seen through the
  // papillary dermis. Read in the papillary dermis alone (before issue 17) it did not rise from
  // 0.5 to 1 mm reached (1.13, 1.12, 1.10 days in the docs/model.md table).
  const auto spec = mnsim::protocol::load_dose_response(write_temp_file(
      "mnsim_dr_depth.toml",
      "[inventory]\nboxcar_shallow = 1\n[course]\nsessions = 1\nfollow_up = \"2 weeks\"\n"
      "[grid]\ndepth = \"0.5 mm, 0.75 mm, 1 mm, 1.5 mm\"\npunctures = \"300 /cm^2\"\n"
      "interval = \"4 weeks\"\nfitzpatrick = \"3\"\n"
      "[reference]\ndepth = \"0.75 mm\"\npunctures = \"300 /cm^2\"\nfitzpatrick = 3\n"));
  const auto model = mnsim::protocol::ReducedModel::load_default();
  const auto r = mnsim::protocol::run_dose_response(model, spec, 2);
  ASSERT_EQ(r.points.size(), 4u);
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    ASSERT_TRUE(r.points[i].outcome.bled) << r.points[i].depth;
    if (i > 0) {
      EXPECT_GT(r.points[i].outcome.erythema_days, r.points[i - 1].outcome.erythema_days)
          << r.points[i].depth;
    }
  }
}

TEST(DoseResponse, ShallowAndSparseSessionsReddenForHoursDeepOnesForDays) {
  // Redness is the blood over the normal amount seen from above (healing::erythema): the
  // mediators' vasodilation plus the blood out of the cut vessels. At 0.25 mm (just past this
  // site's superficial plexus, 0.24 mm) or 100 /cm^2 each is below the visible threshold alone,
  // and together they stay visible for hours, past the neurogenic flare (under 2 h); a 0.2 mm
  // session, which does not bleed, reddens through the flare alone. The reference session
  // (0.75 mm, 300 /cm^2) reddens for 1-3 days (Chu 2021's clinical course). Before issue 17's
  // slow phase the larger of the two was taken, and 0.25 mm and 100 /cm^2 reddened for half an
  // hour.
  const auto spec = mnsim::protocol::load_dose_response(write_temp_file(
      "mnsim_dr_flare.toml",
      "[inventory]\nboxcar_shallow = 1\n[course]\nsessions = 1\nfollow_up = \"2 weeks\"\n"
      "[grid]\ndepth = \"0.2 mm, 0.25 mm, 0.75 mm\"\npunctures = \"100 /cm^2, 300 /cm^2\"\n"
      "interval = \"4 weeks\"\nfitzpatrick = \"3\"\n"
      "[reference]\ndepth = \"0.75 mm\"\npunctures = \"300 /cm^2\"\nfitzpatrick = 3\n"));
  auto model = mnsim::protocol::ReducedModel::load_default();
  // depth in mm, density per cm^2
  auto point = [&](const mnsim::protocol::DoseResponse& r, double depth, double density) {
    for (const auto& pt : r.points) {
      if (std::abs(pt.depth * 1e3 - depth) < 1e-9 && std::abs(pt.density * 1e-4 - density) < 1e-6) {
        return pt.outcome;
      }
    }
    ADD_FAILURE() << depth << " " << density;
    return mnsim::protocol::PatientOutcome{};
  };
  const auto r = mnsim::protocol::run_dose_response(model, spec, 2);
  const auto dry = point(r, 0.2, 300.0), shallow = point(r, 0.25, 300.0);
  const auto sparse = point(r, 0.75, 100.0), reference = point(r, 0.75, 300.0);
  EXPECT_FALSE(dry.bled);
  EXPECT_TRUE(shallow.bled);
  EXPECT_GT(dry.erythema_days, 0.0);
  EXPECT_LT(dry.erythema_days, 2.0 / 24.0);  // the flare alone: visible well under its 2 h fade
  for (const auto& o : {shallow, sparse}) {
    EXPECT_GT(o.erythema_days, 2.0 / 24.0);  // hours ...
    EXPECT_LT(o.erythema_days, 1.0);         // ... not days
  }
  EXPECT_GT(reference.erythema_days, 1.0);
  EXPECT_LT(reference.erythema_days, 3.0);
  EXPECT_GT(reference.erythema_days, shallow.erythema_days);
  // Without the flare the hours stay (they are the mediators' and the blood's), the dry
  // session's redness goes.
  model.params.flare_radius = 0.0;
  const auto none = mnsim::protocol::run_dose_response(model, spec, 2);
  EXPECT_EQ(point(none, 0.2, 300.0).erythema_days, 0.0);
  EXPECT_GT(point(none, 0.25, 300.0).erythema_days, 2.0 / 24.0);
  EXPECT_GT(point(none, 0.75, 100.0).erythema_days, 2.0 / 24.0);
}

TEST(DoseResponseCli, WritesTheCsvAndRefusesToReplaceIt) {
  const std::string f = write_temp_file("mnsim_dr_cli.toml", kSmallGrid);
  const auto csv = std::filesystem::temp_directory_path() / "mnsim_dr_cli.csv";
  std::filesystem::remove(csv);
  const auto r = run_cli({"dose-response", f, "--csv", csv.string(), "-j", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = mnsim::test::slurp(csv);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 9) << text;  // header + 8 points
  const auto again = run_cli({"dose-response", f, "--csv", csv.string()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("--csv"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  const auto forced = run_cli({"dose-response", f, "--csv", csv.string(), "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
}

TEST(DoseResponseCli, BadAxisItemIsOneLineExit2NamingFileLineAndKey) {
  for (const auto& [grid, what] : std::vector<std::pair<std::string, std::string>>{
           {"depth = \"0.5 mm, 1 parsec\"", "grid.depth"},
           {"depth = \"0.5 mm,, 1 mm\"", "grid.depth"},
           {"punctures = \"0 /cm^2\"", "grid.punctures"},
           {"fitzpatrick = \"3, 7\"", "grid.fitzpatrick"},
           {"interval = \"4 weeks, 4 weeks\"", "grid.interval"}}) {
    const std::string f =
        write_temp_file("mnsim_dr_bad.toml", "[inventory]\nrolling = 1\n[grid]\n" + grid + "\n");
    const auto r = run_cli({"dose-response", f});
    EXPECT_EQ(r.exit_code, 2) << grid;
    EXPECT_NE(r.err.find(f + ":4:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // A reference that is not on its axis.
  const std::string f = write_temp_file("mnsim_dr_ref.toml",
                                        "[inventory]\nrolling = 1\n[grid]\n"
                                        "depth = \"0.5 mm\"\n[reference]\ndepth = \"0.6 mm\"\n");
  const auto r = run_cli({"dose-response", f});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("reference.depth"), std::string::npos) << r.err;
  const auto c = run_cli({"check", f});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find("reference.depth"), std::string::npos) << c.err;
}

}  // namespace
