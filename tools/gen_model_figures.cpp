// Developer tool: draws the figures of docs/model.md, "Scar remodelling" (scripts/gen-figures.sh)
// from the reduced model through the library API: how scars of each kind change after a course,
// what the change is made of (floor rise against the rim, tether release) by number of sessions,
// and the dose dependence of the depth reduction and of the PIH risk; the channels' closure and
// barrier by depth (docs/model.md §6). Presentation only: every
// number comes from protocol::ReducedModel with the shipped data.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/constants.hpp"
#include "io/files.hpp"
#include "lesions/lesion_data.hpp"
#include "lesions/registry.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/reduced.hpp"
#include "report/plot.hpp"

namespace {

using namespace mnsim;
using protocol::PatientOutcome;
using protocol::PatientSpec;
using protocol::ReducedModel;
using protocol::ReducedProtocol;
namespace plot = report::plot;

outcomes::ScarGeometry scar(const std::string& cls) {
  return outcomes::scar_geometry(*lesions::mid_range_lesion(cls, lesions::default_lesion_data()));
}

/// Lotfi 2013's course, the calibration protocol: 1.5 mm roller, 16 passes, 5 sessions 30 days
/// apart.
ReducedProtocol lotfi(int sessions) {
  ReducedProtocol pr;
  pr.needle_length = 1.5e-3;
  pr.passes = 16;
  pr.sessions = sessions;
  pr.interval = 30 * kDay;
  pr.follow_up = 8 * kWeek;
  return pr;
}

void save(const plot::Figure& f, const std::filesystem::path& file) {
  io::write_file_atomic(file, f.png());
  std::printf("wrote %s\n", file.string().c_str());
}

struct Kind {
  const char* cls;
  const char* name;
};
const std::vector<Kind> kKinds = {{"icepick", "icepick"},
                                  {"boxcar_shallow", "boxcar, shallow"},
                                  {"boxcar_deep", "boxcar, deep"},
                                  {"rolling", "rolling (tethered)"}};

/// Figure 1: depth reduction of each scar kind against weeks after the last of 5 sessions.
void after_course(const ReducedModel& m, const std::filesystem::path& dir) {
  ReducedProtocol pr = lotfi(5);
  std::vector<double> weeks;
  for (int w = 0; w <= 52; w += 2) weeks.push_back(w);
  pr.follow_up = 8 * kWeek;
  for (double w : weeks) pr.also_at.push_back(w * kWeek);
  plot::Figure f(720, 360);
  plot::Panel p{70,
                40,
                440,
                270,
                {0, 52, false, false, "weeks after the last session"},
                {0, 100, false, false, "scar depth reduction (%)"},
                ""};
  p.title = "5 monthly 1.5 mm roller sessions, 16 passes";
  f.axes(p);
  double ly = 60;
  for (std::size_t k = 0; k < kKinds.size(); ++k) {
    PatientSpec pt;
    pt.scars = {scar(kKinds[k].cls)};
    const PatientOutcome o = m.simulate(pt, pr);
    std::vector<double> x, y;
    for (const auto& t : o.at) {
      x.push_back(t.follow_up / kWeek);
      y.push_back(t.depth_reduction_pct);
    }
    f.line(p, x, y, plot::line_colour(k), 2.0, false);
    f.legend_entry(530, ly, kKinds[k].name, plot::line_colour(k), false);
    ly += 22;
  }
  save(f, dir / "scar_reduction_after_course.png");
}

/// Figure 2: what the change is made of, by number of sessions (8 weeks after the last): the
/// floor's rise above the rim's (new matrix filling the scar's deficit) and the depth released
/// when a tethering band fails.
void by_sessions(const ReducedModel& m, const std::filesystem::path& dir) {
  plot::Figure f(720, 380);
  plot::Panel fill{70,
                   40,
                   270,
                   250,
                   {1, 6, false, false, "sessions"},
                   {0, 300, false, false, "floor rise above the rim (\u00b5m)"},
                   ""};
  fill.title = "Fill: new matrix under the floor";
  plot::Panel rel = fill;
  rel.x = 420;
  rel.ya.label = "depth released by the band (\u00b5m)";
  rel.title = "Release: tethering band cut";
  std::vector<std::vector<double>> fills(kKinds.size()), rels(kKinds.size());
  std::vector<double> xs;
  double top = 0, rtop = 0;
  for (int n = 1; n <= 6; ++n) {
    xs.push_back(n);
    for (std::size_t k = 0; k < kKinds.size(); ++k) {
      PatientSpec pt;
      pt.scars = {scar(kKinds[k].cls)};
      const PatientOutcome o = m.simulate(pt, lotfi(n));
      fills[k].push_back(1e6 * o.scars[0].fill);
      rels[k].push_back(1e6 * o.scars[0].release);
      top = std::max(top, fills[k].back());
      rtop = std::max(rtop, rels[k].back());
    }
  }
  fill.ya.hi = std::max(50.0, std::ceil(top / 50.0) * 50.0);
  rel.ya.hi = std::max(50.0, std::ceil((rtop + 1.0) / 50.0) * 50.0);
  f.axes(fill);
  f.axes(rel);
  double lx = 70;
  for (std::size_t k = 0; k < kKinds.size(); ++k) {
    f.line(fill, xs, fills[k], plot::line_colour(k), 2.0, false);
    f.line(rel, xs, rels[k], plot::line_colour(k), 2.0, false);
    lx = f.legend_entry(lx, 368, kKinds[k].name, plot::line_colour(k), false) + 16;
  }
  save(f, dir / "scar_fill_and_release_by_sessions.png");
}

/// Figure 3: dose dependence for a shallow boxcar scar, 3 sessions 4 weeks apart, 8 weeks after
/// the last: depth reduction against punctures per session for three depths reached, and the
/// PIH risk against punctures per session for three skin types (1.0 mm reached).
void dose(const ReducedModel& m, const std::filesystem::path& dir) {
  plot::Figure f(760, 380);
  plot::Panel red{70,
                  40,
                  280,
                  250,
                  {20, 5000, true, false, "punctures per cm\u00b2 per session"},
                  {0, 100, false, false, "scar depth reduction (%)"},
                  ""};
  red.title = "Shallow boxcar: depth reached";
  plot::Panel pih = red;
  pih.x = 450;
  pih.ya = {0, 100, false, false, "PIH risk (%)"};
  pih.title = "PIH risk: skin type (1.0 mm reached)";
  f.axes(red);
  f.axes(pih);
  std::vector<double> dens;
  for (double d = 20; d <= 5000 * 1.0001; d *= 1.5) dens.push_back(d);
  const std::vector<double> depths = {0.5e-3, 1.0e-3, 1.5e-3};
  const std::vector<int> types = {2, 4, 6};
  for (std::size_t k = 0; k < 3; ++k) {
    std::vector<double> y, yp;
    for (double d : dens) {
      ReducedProtocol pr;
      pr.sessions = 3;
      pr.interval = 4 * kWeek;
      pr.follow_up = 8 * kWeek;
      pr.density = d * 1e4;
      pr.depth_reached = depths[k];
      PatientSpec pt;
      pt.scars = {scar("boxcar_shallow")};
      y.push_back(m.simulate(pt, pr).depth_reduction_pct);
      pr.depth_reached = 1.0e-3;
      pt.fitzpatrick = types[k];
      yp.push_back(100.0 * m.simulate(pt, pr).pih_risk);
    }
    f.line(red, dens, y, plot::line_colour(k), 2.0, false);
    f.line(pih, dens, yp, plot::line_colour(k + 3), 2.0, false);
    f.legend_entry(80 + 95.0 * static_cast<double>(k), 368,
                   std::to_string(depths[k] * 1e3).substr(0, 3) + " mm", plot::line_colour(k),
                   false);
    f.legend_entry(460 + 95.0 * static_cast<double>(k), 368,
                   "type " + std::string(k == 0   ? "II"
                                         : k == 1 ? "IV"
                                                  : "VI"),
                   plot::line_colour(k + 3), false);
  }
  save(f, dir / "dose_response_curves.png");
}

/// Figure 4: the channels' closure and the barrier against the depth reached, one session on the
/// medial cheek at three densities, and the open fraction over time at three depths (issue 17,
/// item 4: healing::close_channels).
void channels(const ReducedModel& m, const std::filesystem::path& dir) {
  plot::Figure f(760, 380);
  plot::Panel by_depth{70,
                       40,
                       280,
                       250,
                       {0.05, 1.5, false, false, "depth reached (mm)"},
                       {0, 60, false, false, "hours after the session"},
                       ""};
  by_depth.title = "Closure (solid), barrier (dashed)";
  plot::Panel course = by_depth;
  course.x = 450;
  course.xa = {0, 96, false, false, "hours after the session"};
  course.ya = {0, 1, false, false, "open fraction of each channel"};
  course.title = "Open fraction (300 /cm\u00b2)";
  f.axes(by_depth);
  f.axes(course);
  auto one = [&](double depth_m, double per_cm2) {
    ReducedProtocol pr;
    pr.sessions = 1;
    pr.follow_up = 1 * kWeek;
    pr.density = per_cm2 * 1e4;
    pr.depth_reached = depth_m;
    return m.simulate(PatientSpec{}, pr);
  };
  std::vector<double> depths;
  for (double d = 0.05; d <= 1.5001; d += 0.025) depths.push_back(d);
  const std::vector<double> densities = {100, 300, 1000};
  for (std::size_t k = 0; k < densities.size(); ++k) {
    std::vector<double> closure, barrier;
    for (double d : depths) {
      const PatientOutcome o = one(d * 1e-3, densities[k]);
      closure.push_back(o.channel_closure_hours);
      barrier.push_back(o.barrier_hours);
    }
    f.line(by_depth, depths, closure, plot::line_colour(k), 2.0, false);
    f.line(by_depth, depths, barrier, plot::line_colour(k), 2.0, true);
    f.legend_entry(80 + 95.0 * static_cast<double>(k), 368,
                   std::to_string(static_cast<int>(densities[k])) + " /cm²", plot::line_colour(k),
                   false);
  }
  const std::vector<double> shallow = {0.1e-3, 0.2e-3, 0.5e-3};
  for (std::size_t k = 0; k < shallow.size(); ++k) {
    const PatientOutcome o = one(shallow[k], 300);
    std::vector<double> h, open;
    for (const auto& c : o.channel_course) {
      h.push_back(c[0]);
      open.push_back(c[1]);
    }
    f.line(course, h, open, plot::line_colour(k + 3), 2.0, false);
    f.legend_entry(460 + 95.0 * static_cast<double>(k), 368,
                   std::to_string(shallow[k] * 1e3).substr(0, 3) + " mm", plot::line_colour(k + 3),
                   false);
  }
  save(f, dir / "channels_by_depth.png");
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "docs/figures";
  std::filesystem::create_directories(dir);
  const ReducedModel m = ReducedModel::load_default();
  after_course(m, dir);
  by_sessions(m, dir);
  dose(m, dir);
  channels(m, dir);
  return 0;
}
