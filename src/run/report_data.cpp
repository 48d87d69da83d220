#include "run/report_data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/constants.hpp"
#include "devices/stage.hpp"

namespace mnsim {

namespace {

/// Which inventory Goodman & Baron grade (the report says it with the grades).
std::string grading_in_words(const GoodmanBaron& gb, std::size_t patch_lesions) {
  if (!gb.face_inventory) {
    return fmt::format(
        "Grading: Goodman & Baron grade the {} lesion(s) of the simulated patch on a whole-face "
        "scale (the patch is not the face; a [face] inventory in the scenario would be graded "
        "instead).",
        patch_lesions);
  }
  long long scars = 0;
  int simulated = 0;
  for (const auto& c : gb.face) {
    scars += c.face.count;
    simulated += c.simulated() ? 1 : 0;
  }
  const std::size_t classes = gb.face.size();
  return fmt::format(
      "Grading: Goodman & Baron grade the patient's face inventory ({} scars in {} class{}); each "
      "class takes the mean relative depth change of the patch's scars of its kind ({}).",
      scars, classes, classes == 1 ? "" : "es",
      static_cast<std::size_t>(simulated) == classes
          ? std::string(classes == 1 ? "simulated" : "every class simulated")
          : fmt::format("{} of {} simulated; the others, not simulated, keep their depth",
                        simulated, classes));
}

std::vector<std::string> in_words(const ReportText& text, const grid::Grid& g,
                                  const skin::SkinPatch& patch, const RunRecord& rec,
                                  const Outcome& o, const protocol::Course& course) {
  std::vector<std::string> w;
  const skin::PatientSpec& pt = text.patient;
  w.push_back(fmt::format("Patient: {}, {:.0f} years, Fitzpatrick type {}; treated site: {}.",
                          pt.sex == skin::Sex::Female ? "woman" : "man", pt.age_years,
                          pt.fitzpatrick, pt.site));
  w.push_back(fmt::format(
      "Simulated patch {:.1f} mm x {:.1f} mm down to {:.2f} mm, {} voxels; {} lesion(s).",
      g.width() * 1e3, g.length() * 1e3, g.depth() * 1e3, g.cells(), patch.lesions().size()));
  if (!rec.first_stats.is_null()) {
    w.push_back(fmt::format(
        "Device: {}. Per session {:.0f} punctures/cm^2, depth reached {:.0f} um on average, "
        "{:.0f} % of punctures bleeding.",
        rec.first_stats["device"]["description"].get<std::string>(), o.density_mean * 1e-4,
        o.depth_mean * 1e6, 100.0 * o.bleeding_fraction));
  }
  w.push_back(fmt::format(
      "Course: {} session(s), {:.0f} days apart; followed to day {:.0f}.", course.sessions.size(),
      course.sessions.size() > 1 ? (course.sessions[1].time - course.sessions[0].time) / kDay : 0.0,
      course.end_time / kDay));
  w.push_back(grading_in_words(o.goodman_baron, o.scars.size()));
  if (text.notes) w.push_back(*text.notes);
  return w;
}

/// Session 1's puncture density on a 1 mm grid and its depth histogram.
void punctures_of_session_one(const RunRecord& rec, const devices::Rect& area,
                              report::ReportData& rd) {
  if (rec.first_punctures.empty()) return;
  const devices::DensityMap dm = devices::density_map(rec.first_punctures, area, 1e-3);
  report::Map2D& m = rd.puncture_density;
  m.nx = dm.nx;
  m.ny = dm.ny;
  m.x0 = area.x0 * 1e3;
  m.y0 = area.y0 * 1e3;
  m.dx = m.dy = 1.0;
  m.x_label = "x (mm)";
  m.y_label = "y (mm)";
  m.value_label = "punctures per cm^2 (session 1)";
  for (int iy = 0; iy < dm.ny; ++iy)
    for (int ix = 0; ix < dm.nx; ++ix) m.v.push_back(static_cast<float>(dm.density(ix, iy) * 1e-4));
  for (const auto& e : rec.first_stats["depth_um"]["histogram_edges"])
    rd.depth_edges_um.push_back(e.get<double>());
  for (const auto& c : rec.first_stats["depth_um"]["histogram_counts"])
    rd.depth_counts.push_back(c.get<double>());
}

/// Time courses of the main fields in the two dermal layers.
std::vector<report::Series> time_courses(const io::TimeSeries& ts) {
  const std::vector<std::pair<std::string, std::string>> shown = {{"inflammatory_signal", "1"},
                                                                  {"macrophages", "1"},
                                                                  {"fibroblasts", "cells/mm^3"},
                                                                  {"collagen3", "mg/mL"},
                                                                  {"collagen1", "mg/mL"},
                                                                  {"elastin", "mg/mL"},
                                                                  {"vascular", "1"}};
  std::vector<report::Series> out;
  for (const auto& [q, unit] : shown) {
    for (const char* layer : {"papillary_dermis", "reticular_dermis"}) {
      report::Series se;
      se.quantity = q;
      se.layer = layer;
      se.unit = unit;
      for (const auto& [t, v] : ts.series(q, layer)) {
        se.t_days.push_back(t / kDay);
        se.value.push_back(v);
      }
      out.push_back(std::move(se));
    }
  }
  return out;
}

/// Cross-section through the middle of the patch: collagen I + III, tissue composition before;
/// the same times the healing response after.
report::Map2D cross_section(const skin::Tissue& tissue, const healing::Engine& engine, bool after) {
  const grid::Grid& g = engine.grid();
  const auto& base = engine.baselines();
  const int jm = g.ny / 2;
  report::Map2D m;
  m.nx = g.nx;
  m.ny = g.nz;
  m.x0 = 0.0;
  m.dx = g.dx * 1e3;
  m.x_label = "x (mm)";
  m.y_label = "depth (um)";
  m.value_label = "collagen I + III (mg/mL)";
  m.y_down = true;
  // Non-uniform z: resample on a uniform depth grid of the finest spacing used for display.
  const int rows = 120;
  m.ny = rows;
  m.y0 = 0.0;
  m.dy = g.depth() * 1e6 / rows;
  const grid::ConstFieldView c1 = tissue.fields.view(skin::field::kCollagen1);
  const grid::ConstFieldView c3 = tissue.fields.view(skin::field::kCollagen3);
  const grid::ConstFieldView h1 = engine.fields().view("collagen1");
  const grid::ConstFieldView h3 = engine.fields().view("collagen3");
  for (int r = 0; r < rows; ++r) {
    const int k = g.k_of_depth((r + 0.5) * g.depth() / rows);
    for (int i = 0; i < g.nx; ++i) {
      const int l = engine.layer_of()[static_cast<std::size_t>(g.at(i, jm, k))];
      double v = l == 0 ? 0.0 : static_cast<double>(c1(i, jm, k)) + c3(i, jm, k);
      if (after && l > 0) {
        // The healing response relative to the layer's baseline, applied to the local (possibly
        // scarred) composition.
        const auto& b = base[static_cast<std::size_t>(l - 1)];
        const double b13 = b.collagen1 + b.collagen3;
        if (b13 > 0) v *= (static_cast<double>(h1(i, jm, k)) + h3(i, jm, k)) / b13;
      }
      m.v.push_back(l == 0 ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(v));
    }
  }
  return m;
}

/// Profile across each scar's centre, before and after (the same shape scaled by the depth
/// ratio, as the remodelling link assumes).
std::vector<report::ScarProfile> scar_profiles(const skin::SkinPatch& patch, const Outcome& o) {
  std::vector<report::ScarProfile> out;
  std::size_t index = 0;
  for (const auto& l : patch.lesions()) {
    const ScarOutcome& s = o.scars.at(index++);
    const lesions::Box b = l->bounds();
    const double grow = 0.5 * std::max(b.x1 - b.x0, b.y1 - b.y0);
    report::ScarProfile pr;
    pr.kind = s.type;
    pr.label = s.id;
    const double yc = 0.5 * (b.y0 + b.y1);
    const double ratio = s.depth_before > 0 ? s.depth_after / s.depth_before : 0.0;
    for (int q = 0; q <= 80; ++q) {
      const double x = b.x0 - grow + (b.x1 - b.x0 + 2 * grow) * q / 80.0;
      const double d = l->depression(x, yc);
      pr.x_mm.push_back(x * 1e3);
      pr.before_um.push_back(d * 1e6);
      pr.after_um.push_back(d * ratio * 1e6);
    }
    out.push_back(std::move(pr));
  }
  return out;
}

std::vector<report::OutcomeRow> outcome_rows(const Outcome& o) {
  auto num = [](double v, int digits) { return fmt::format("{:.{}f}", v, digits); };
  const GoodmanBaron& gb = o.goodman_baron;
  const std::string on = gb.face_inventory
                             ? "; on the face inventory"
                             : "; on the patch scars (a whole-face scale on the simulated patch)";
  std::vector<report::OutcomeRow> rows = {
      {"Goodman & Baron quantitative score", fmt::format("{}", gb.quantitative_before),
       fmt::format("{}", gb.quantitative_after), "lower is better" + on},
      {"Goodman & Baron qualitative grade", fmt::format("{}", gb.qualitative_before),
       fmt::format("{}", gb.qualitative_after), "worst scar: 0 none, 2 mild .. 4 severe" + on},
      {"Papillary-dermis collagen change", "", num(o.collagen_change_pct_papillary, 1) + " %",
       "3D engine"},
      {"Reticular-dermis collagen change", "", num(o.collagen_change_pct_reticular, 1) + " %",
       "3D engine"},
      {"Elastin change", "", num(o.elastin_change_pct, 1) + " %", ""},
      {"Epidermal thickness change", "", num(o.epidermal_thickness_change_pct, 1) + " %", ""},
      {"Barrier recovery", "", num(o.barrier_recovery_hours, 1) + " h", "per session"},
      {"Channel closure", "",
       o.channel_closure_hours >= 0.0 ? num(o.channel_closure_hours, 1) + " h" : "> 96 h",
       "epidermis re-grown over the channels"},
      {"Erythema (downtime)", "", num(o.erythema_days, 1) + " days", "per session"},
      {"Post-inflammatory hyperpigmentation risk", "", num(100.0 * o.pih_risk, 1) + " %", ""},
      {"Punctures that bled", "", num(100.0 * o.bleeding_fraction, 0) + " %",
       "pinpoint bleeding endpoint"}};
  for (const auto& s : o.scars) {
    rows.push_back({fmt::format("Scar depth: {}", s.type), num(s.depth_before * 1e6, 0) + " um",
                    num(s.depth_after * 1e6, 0) + " um", ""});
  }
  for (const auto& c : gb.face) {
    rows.push_back({fmt::format("Face inventory: {} x {}", c.face.count, c.face.cls),
                    num(c.face.depth * 1e6, 0) + " um", num(c.depth_after * 1e6, 0) + " um",
                    c.how});
  }
  return rows;
}

}  // namespace

report::ReportData make_report_data(const ReportText& text, const skin::Tissue& tissue,
                                    const healing::Engine& engine, const RunRecord& rec,
                                    const Outcome& outcome, const protocol::Course& course,
                                    const devices::Rect& area) {
  report::ReportData rd;
  rd.title = text.title;
  if (const std::string w = safety_warning(outcome, text.patient.site); !w.empty()) {
    rd.warnings.push_back(w);
  }
  rd.scenario_in_words = in_words(text, engine.grid(), tissue.patch, rec, outcome, course);
  rd.scenario_toml = text.scenario_toml;
  rd.run_metadata = text.run_metadata;
  punctures_of_session_one(rec, area, rd);
  rd.series = time_courses(rec.ts);
  for (const auto& s : course.sessions) rd.session_days.push_back(s.time / kDay);
  rd.cross_section_before = cross_section(tissue, engine, false);
  rd.cross_section_after = cross_section(tissue, engine, true);
  rd.scars = scar_profiles(tissue.patch, outcome);
  rd.outcomes = outcome_rows(outcome);
  if (!course.start_date.empty()) {
    for (const auto& s : course.sessions) {
      rd.calendar.push_back(
          {s.index + 1, s.date, s.time / kDay, fmt::format("session {}", s.index + 1)});
    }
    rd.calendar.push_back(
        {0, protocol::add_days(course.start_date, std::lround(course.end_time / kDay)),
         course.end_time / kDay, "end of follow-up: outcome assessed"});
  }
  return rd;
}

}  // namespace mnsim
