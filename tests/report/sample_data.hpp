// Synthetic ReportData for the report tests and the sample-report tool: shapes resembling a
// three-session course on a scarred cheek. The numbers are made up for layout only; nothing
// here is a model result.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "report/report.hpp"

namespace mnsim::report::sample {

// The title the browser test looks for, shown as literal text.
inline const std::string kHostileTitle = "<script>alert(1)</script> & \"quotes\"";

// Deterministic value in [0, 1) from an integer (splitmix64 finaliser): no RNG state.
inline double hash01(std::uint64_t k) {
  k += 0x9e3779b97f4a7c15ull;
  k = (k ^ (k >> 30)) * 0xbf58476d1ce4e5b9ull;
  k = (k ^ (k >> 27)) * 0x94d049bb133111ebull;
  k ^= k >> 31;
  return static_cast<double>(k >> 11) / 9007199254740992.0;
}

inline ReportData sample_report_data() {
  ReportData d;
  d.title = kHostileTitle;
  d.scenario_in_words = {
      "A 34-year-old patient with Fitzpatrick type III skin and rolling, boxcar and icepick "
      "acne scars on the left cheek.",
      "Three sessions four weeks apart with a 1.5 mm roller (192 needles), four passes each.",
      "Follow-up 90 days after the last session. Notes: <b>bold?</b> & 'quoted' text stays text."};
  d.numerics = {{"Grid", "100 x 80 x 40 cells (0.32 million)"},
                {"Voxel size", "100 \u00b5m x 100 \u00b5m across, 5 to 60 \u00b5m in depth"}};
  Consultation& c = d.consultation;
  c.summary = {
      "A 34-year-old woman with Fitzpatrick skin type III (medium skin that sometimes "
      "burns and tans gradually), treated on the medial cheek.",
      "Treatment with a roller with 192 needles 1.50 mm long, 4 passes over the skin per "
      "session: 3 sessions 4 weeks apart. The outcome is assessed on day 146.",
      "Notes stay text: <b>bold?</b> & 'quoted'."};
  c.scars = {{"Boxcar scar 1 (punched-out acne scar), 1.4 mm wide", 280, 202},
             {"Rolling scar 2 (broad rolling acne scar), 2.4 mm wide", 180, 117},
             {"Icepick scar 3 (narrow deep acne scar), 0.4 mm wide", 600, 528},
             {"Boxcar scar 4 (punched-out acne scar), 1.0 mm wide", 220, 154}};
  c.scars_note = "Depth after: at the end of follow-up.";
  c.grade_before = 3;
  c.grade_after = 2;
  c.score_before = 14;
  c.score_after = 9;
  c.graded_on = "the 4 simulated scars, on the scale used for a whole face";
  c.score_rows = {"punched-out, shallow base (2 points): 2 -> 1 scars, 2 -> 2 points"};
  c.score_note = "The score fell from 14 to 9 (4 scars shallower, 0 scars deeper, 0 unchanged).";
  c.erythema_days = 3.1;
  c.barrier_hours = 31;
  c.fitzpatrick = 3;
  c.pih_risk = 0.012;
  c.pih_limit = 0.05;
  c.depth_reached_um = 900;
  c.dermis_bottom_um = 1100;
  c.past_dermis_fraction = 0.0;
  c.uncertainty = {"Made-up sample: no band."};
  d.scenario_toml =
      "title = \"<script>alert(1)</script> & \\\"quotes\\\"\"\n"
      "seed = 42\n\n[patient]\nage = 34\nfitzpatrick = \"III\"\n\n[device]\n"
      "kind = \"roller\"\nneedle_length = \"1.5 mm\"\n\n[course]\nsessions = 3\n"
      "interval = \"28 d\"\nstart_date = 2026-01-05\n";
  d.run_metadata = R"({"version":"0.1.0","commit":"abc123","seed":42,"threads":2,"wall_s":12.5,)"
                   R"("note":"</pre><script>alert(2)</script>"})";

  // Puncture density on a 1 mm grid over 20 x 16 mm.
  Map2D& m = d.puncture_density;
  m.nx = 20;
  m.ny = 16;
  m.dx = m.dy = 1;
  m.x_label = "x (mm)";
  m.y_label = "y (mm)";
  m.value_label = "punctures per cm\u00b2";
  for (int j = 0; j < m.ny; ++j)
    for (int i = 0; i < m.nx; ++i) {
      const double edge = std::min({i + 0.5, m.nx - i - 0.5, j + 0.5, m.ny - j - 0.5});
      const double ramp = std::min(1.0, edge / 3.0);
      m.v.push_back(static_cast<float>(
          ramp * (180 + 60 * (hash01(static_cast<std::uint64_t>(j * m.nx + i)) - 0.5))));
    }

  // Depth reached: near-Gaussian around 900 um.
  for (int k = 0; k <= 16; ++k) d.depth_edges_um.push_back(100.0 * k);
  for (int k = 0; k < 16; ++k) {
    const double c = 100.0 * k + 50, z = (c - 900) / 180;
    d.depth_counts.push_back(std::round(3400 * std::exp(-0.5 * z * z)));
  }

  // Time courses: three quantities by layer, and one whole-patch quantity.
  d.session_days = {0, 28, 56};
  const char* layers[] = {"epidermis", "papillary dermis", "reticular dermis"};
  const double depth_factor[] = {0.6, 1.0, 0.7};
  for (int l = 0; l < 3; ++l) {
    Series tgf{"TGF-\u03b21 (ng/mL)", layers[l], "ng/mL", {}, {}};
    Series fib{"Fibroblasts (cells/mm\u00b3)", layers[l], "cells/mm\u00b3", {}, {}};
    Series col{"Collagen I + III (mg/mL)", layers[l], "mg/mL", {}, {}};
    for (int k = 0; k <= 292; ++k) {
      const double t = 0.5 * k;
      double g = 0.01, f = 4000, c = 20 + 10 * l;
      for (double s : d.session_days) {
        if (t < s) continue;
        const double a = t - s;
        g += depth_factor[l] * 20 * std::exp(-a / 2.5);
        f += depth_factor[l] * 6000 * a / 7 * std::exp(1 - a / 7);
        c += depth_factor[l] * 3 * (1 - std::exp(-a / 40));
      }
      for (Series* s : {&tgf, &fib, &col}) s->t_days.push_back(t);
      tgf.value.push_back(g);
      fib.value.push_back(f);
      col.value.push_back(c);
    }
    d.series.push_back(tgf);
    d.series.push_back(fib);
    d.series.push_back(col);
  }
  Series open{"Open wound area (%)", "", "% of the area", {}, {}};
  for (int k = 0; k <= 292; ++k) {
    const double t = 0.5 * k;
    double a = 0;
    for (double s : d.session_days)
      if (t >= s) a += 2.0 * std::exp(-(t - s) / 0.8);
    open.t_days.push_back(t);
    open.value.push_back(a);
  }
  d.series.push_back(open);

  // Cross-section: x 0..10 mm, depth 0..2000 um; a depressed scar at 5 mm, remodelled after.
  for (Map2D* c : {&d.cross_section_before, &d.cross_section_after}) {
    c->nx = 100;
    c->ny = 80;
    c->dx = 0.1;
    c->dy = 25;
    c->x_label = "x (mm)";
    c->y_label = "depth (\u00b5m)";
    c->value_label = "collagen I + III (mg/mL)";
    c->y_down = true;
    const bool after = c == &d.cross_section_after;
    if (after)
      for (int i = 0; i < c->nx; ++i)
        c->outline.push_back(150 * std::exp(-std::pow(((i + 0.5) * c->dx - 5) / 1.2, 2)));
    for (int j = 0; j < c->ny; ++j)
      for (int i = 0; i < c->nx; ++i) {
        const double x = (i + 0.5) * c->dx, z = (j + 0.5) * c->dy;
        const double scar = std::exp(-std::pow((x - 5) / 1.2, 2));
        const double surface = 150 * scar * (after ? 0.6 : 1.0);
        double v;
        if (z < surface)
          v = NAN;  // above the skin surface in the scar's depression
        else if (z < surface + 100)
          v = 2;  // epidermis
        else
          v = 25 + 15 * std::min(1.0, (z - surface) / 1200) - 8 * scar +
              (after ? 6 * std::exp(-std::pow((z - surface - 500) / 350, 2)) : 0);
        c->v.push_back(static_cast<float>(v));
      }
  }

  // Scars.
  struct S {
    const char* label;
    const char* kind;
    double depth, width, flat;
    double gain;
  };
  const S scars[] = {
      {"boxcar #1 at (4.0, 6.5) mm", "boxcar", 280, 1.4, 0.8, 0.28},
      {"rolling #2 at (12.0, 8.0) mm", "rolling", 180, 2.4, 0.0, 0.35},
      {"icepick #3 at (15.5, 3.0) mm", "icepick", 600, 0.35, 0.0, 0.12},
      {"boxcar #4 with a very long label that must be cut to fit", "boxcar", 220, 1.0, 0.6, 0.30}};
  for (const S& s : scars) {
    ScarProfile p{s.label, s.kind, {}, {}, {}};
    for (int k = 0; k <= 120; ++k) {
      const double x = -3 + 6.0 * k / 120;
      const double r = std::max(0.0, std::abs(x) - s.flat / 2);
      const double b = s.depth * std::exp(-std::pow(r / (s.width / 2), 4));
      p.x_mm.push_back(x);
      p.before_um.push_back(b);
      p.after_um.push_back(b * (1 - s.gain));
    }
    d.scars.push_back(p);
  }

  d.outcomes = {{"Goodman & Baron quantitative score", "14", "9", "lower is better"},
                {"Goodman & Baron qualitative grade", "3", "2", "1 (macular) to 4 (severe)"},
                {"Collagen I+III, papillary dermis", "26.0 mg/mL", "31.9 mg/mL", "+22.7 %"},
                {"Epidermal thickness", "98 \u00b5m", "104 \u00b5m", ""},
                {"Downtime (visible erythema)", "", "3.1 days per session", ""},
                {"Post-inflammatory hyperpigmentation risk", "", "low", "Fitzpatrick III"}};
  d.cross_section_where = "along x at y = 5.0 mm, across 1 of the 4 scars";
  d.calendar = {{1, "2026-01-05", 0, "Microneedling, 4 passes"},
                {2, "2026-02-02", 28, "Microneedling, 4 passes"},
                {3, "2026-03-02", 56, "Microneedling, 4 passes"},
                {0, "2026-05-31", 146.4, "follow-up & photographs <assessment>"}};
  return d;
}

}  // namespace mnsim::report::sample
