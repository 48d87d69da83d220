#include "run/report_data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/constants.hpp"
#include "devices/catalog.hpp"
#include "devices/registry.hpp"
#include "devices/stage.hpp"
#include "lesions/registry.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/plan.hpp"
#include "report/words.hpp"
#include "skin/atlas.hpp"

namespace mnsim {

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// The site as the atlas names it for a reader ("medial cheek"); the key with spaces if the
/// atlas has no such site.
std::string site_name(const std::string& key) {
  if (const skin::SiteEntry* e = skin::default_atlas().find(key); e && !e->name.empty()) {
    return e->name;
  }
  std::string n = key;
  std::replace(n.begin(), n.end(), '_', ' ');
  return n;
}

/// A lesion kind for a reader: "boxcar" -> "Boxcar"; "measured_surface" -> "Measured surface".
std::string kind_name(const std::string& kind) {
  std::string n = kind;
  std::replace(n.begin(), n.end(), '_', ' ');
  if (!n.empty() && n[0] >= 'a' && n[0] <= 'z') n[0] = static_cast<char>(n[0] - 'a' + 'A');
  return n;
}

/// What a lesion kind is, from its one-line description up to the colon ("punched-out acne
/// scar"); "" when it has none.
std::string kind_words(const std::string& kind) {
  const lesions::LesionKind* k = lesions::find_lesion_kind(kind);
  if (!k) return {};
  return k->doc.substr(0, k->doc.find(':'));
}

/// "4 weeks", "10 days", "1 week".
std::string span_words(double seconds) {
  const long days = std::lround(seconds / kDay);
  if (days > 0 && days % 7 == 0) {
    return fmt::format("{} week{}", days / 7, days == 7 ? "" : "s");
  }
  return fmt::format("{} day{}", days, days == 1 ? "" : "s");
}

/// The device for a reader: "a roller with 192 needles 1.00 mm long (Dermaroller MF8-type
/// medical roller)"; a kind with a depth setting (pens): "set to reach 1.00 mm".
std::string device_words(const nlohmann::json& first_stats) {
  const nlohmann::json& d = first_stats["device"];
  const std::string kind = d.value("kind", std::string("device"));
  const std::string model = d.value("model", std::string());
  const double length_mm = d.value("nominal_length_um", 0.0) * 1e-3;
  bool depth_setting = false;
  if (const devices::DeviceKind* k = devices::find_device_kind(kind)) {
    depth_setting = std::any_of(k->keys.begin(), k->keys.end(),
                                [](const schema::Key& key) { return key.name == "depth"; });
  }
  std::string w = fmt::format("a {} with {} needles {}", kind, d.value("needles", 0),
                              depth_setting ? fmt::format("set to go {:.2f} mm deep", length_mm)
                                            : fmt::format("{:.2f} mm long", length_mm));
  if (const io::SourcedEntry* e = devices::DeviceCatalog::defaults().find(model);
      e && e->has("name")) {
    const std::string& name = e->text("name");
    w += " (" + name.substr(0, name.find(':')) + ")";
  }
  return w;
}

/// Which inventory Goodman & Baron grade (the technical part says it with the grades).
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

/// The technical description: patch and grid, device details, course, grading, notes.
std::vector<std::string> in_words(const ReportText& text, const grid::Grid& g,
                                  const skin::SkinPatch& patch, const RunRecord& rec,
                                  const Outcome& o, const protocol::Course& course) {
  std::vector<std::string> w;
  const skin::PatientSpec& pt = text.patient;
  w.push_back(fmt::format("Patient: {}, {:.0f} years, Fitzpatrick type {}; treated site: {} ({}).",
                          pt.sex == skin::Sex::Female ? "woman" : "man", pt.age_years,
                          pt.fitzpatrick, site_name(pt.site), pt.site));
  w.push_back(fmt::format(
      "Simulated patch {:.1f} mm x {:.1f} mm down to {:.2f} mm, {} voxels; {} lesion(s).",
      g.width() * 1e3, g.length() * 1e3, g.depth() * 1e3, g.cells(), patch.lesions().size()));
  if (!rec.first_stats.is_null()) {
    w.push_back(fmt::format(
        "Device: {}. Per session {:.0f} punctures per cm\u00b2, depth reached {:.0f} \u00b5m on "
        "average, {:.0f} % of punctures bleeding.",
        rec.first_stats["device"]["description"].get<std::string>(), o.density_mean * 1e-4,
        o.depth_mean * 1e6, 100.0 * o.bleeding_fraction));
  }
  w.push_back(fmt::format(
      "Course: {} session(s), {:.0f} days apart; followed to day {:.0f}.", course.sessions.size(),
      course.sessions.size() > 1 ? (course.sessions[1].time - course.sessions[0].time) / kDay : 0.0,
      course.end_time / kDay));
  w.push_back(grading_in_words(o.goodman_baron, o.scars.size()));
  if (text.notes) w.push_back("Notes: " + *text.notes);
  return w;
}

/// A time step for a reader: "12 s", "4.5 min", "2.0 h".
std::string step_text(double s) {
  if (s < 60) return fmt::format("{:.3g} s", s);
  if (s < 3600) return fmt::format("{:.3g} min", s / 60);
  return fmt::format("{:.3g} h", s / 3600);
}

std::vector<std::pair<std::string, std::string>> numerics_rows(const healing::Engine& engine) {
  const grid::Grid& g = engine.grid();
  double dzmin = std::numeric_limits<double>::infinity(), dzmax = 0;
  for (int k = 0; k < g.nz; ++k) {
    dzmin = std::min(dzmin, g.dz(k));
    dzmax = std::max(dzmax, g.dz(k));
  }
  const healing::StepStats& st = engine.stepper().stats();
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Grid", fmt::format("{} x {} x {} cells ({:.2f} million)", g.nx, g.ny, g.nz,
                           static_cast<double>(g.cells()) * 1e-6)},
      {"Voxel size", fmt::format("{0:.0f} \u00b5m x {0:.0f} \u00b5m across, {1:.0f} to {2:.0f} "
                                 "\u00b5m in depth (the skin layers' interfaces on cell faces)",
                                 g.dx * 1e6, dzmin * 1e6, dzmax * 1e6)},
      {"Healing model", fmt::format("{} fields per voxel (docs/model.md)", engine.fields().size())},
      {"Time steps",
       fmt::format("{} accepted, {} rejected; from {} to {}", st.accepted, st.rejected,
                   step_text(st.dt_smallest), step_text(st.dt_largest))}};
  return rows;
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
  m.value_label = "punctures per cm\u00b2";
  for (int iy = 0; iy < dm.ny; ++iy)
    for (int ix = 0; ix < dm.nx; ++ix) m.v.push_back(static_cast<float>(dm.density(ix, iy) * 1e-4));
  for (const auto& e : rec.first_stats["depth_um"]["histogram_edges"])
    rd.depth_edges_um.push_back(e.get<double>());
  for (const auto& c : rec.first_stats["depth_um"]["histogram_counts"])
    rd.depth_counts.push_back(c.get<double>());
}

/// A field of the time courses as a reader sees it: its name in words with the unit, the value
/// axis, and the factor from the time series' unit to the axis's.
struct FieldDisplay {
  const char* field;
  const char* title;
  const char* axis;
  double factor;
};

/// The display-name table of the fields the report plots (docs/model.md "Fields" for the units).
constexpr FieldDisplay kShownFields[] = {
    {"inflammatory_signal", "Inflammatory signal (relative)", "level (1 = full injury)", 1.0},
    {"macrophages", "Macrophages (relative)", "level (1 = reference)", 1.0},
    {"fibroblasts", "Fibroblasts (cells/mm\u00b3)", "cells/mm\u00b3", 1.0},
    {"collagen3", "Collagen III (mg/mL)", "mg/mL", 1.0},
    {"collagen1", "Collagen I (mg/mL)", "mg/mL", 1.0},
    {"elastin", "Elastin (mg/mL)", "mg/mL", 1.0},
    {"vascular", "Blood vessels (% of volume)", "% of tissue volume", 100.0}};

/// Time courses of the main fields in the two dermal layers.
std::vector<report::Series> time_courses(const io::TimeSeries& ts) {
  const std::pair<const char*, const char*> layers[] = {
      {"papillary_dermis", "upper (papillary) dermis"},
      {"reticular_dermis", "deep (reticular) dermis"}};
  std::vector<report::Series> out;
  for (const FieldDisplay& f : kShownFields) {
    for (const auto& [layer, layer_words] : layers) {
      report::Series se;
      se.quantity = f.title;
      se.layer = layer_words;
      se.unit = f.axis;
      for (const auto& [t, v] : ts.series(f.field, layer)) {
        se.t_days.push_back(t / kDay);
        se.value.push_back(v * f.factor);
      }
      out.push_back(std::move(se));
    }
  }
  return out;
}

/// Each lesion's depth after the course over its depth before (1 when unknown).
std::vector<double> depth_ratios(const Outcome& o, std::size_t lesions) {
  std::vector<double> r(lesions, 1.0);
  for (std::size_t i = 0; i < lesions && i < o.scars.size(); ++i) {
    const ScarOutcome& s = o.scars[i];
    r[i] = s.depth_before > 0 ? s.depth_after / s.depth_before : 1.0;
  }
  return r;
}

/// The row of the grid the cross-section follows: the one whose scars are deepest together
/// (sum over the lesions of their deepest point on the row); the middle row without lesions.
int cross_section_row(const grid::Grid& g, const skin::SkinPatch& patch) {
  int best = g.ny / 2;
  double best_sum = 0;
  for (int j = 0; j < g.ny; ++j) {
    double sum = 0;
    for (const auto& l : patch.lesions()) {
      const lesions::Box b = l->bounds();
      if (g.yc(j) < b.y0 || g.yc(j) > b.y1) continue;
      double deepest = 0;
      for (int i = 0; i < g.nx; ++i) deepest = std::max(deepest, l->depression(g.xc(i), g.yc(j)));
      sum += deepest;
    }
    if (sum > best_sum * (1 + 1e-9)) {
      best_sum = sum;
      best = j;
    }
  }
  return best;
}

/// Cross-section along x through row `jm`: collagen I + III of the tissue before; after, the same
/// tissue with the healing response (relative to the layer's baseline) under the remodelled
/// surface. The surface after lies at each lesion's depression scaled by its depth ratio (as the
/// scar profiles); the skin between it and the unlesioned bottom of the dermis is stretched to
/// fill the raised floor (the bottom of the dermis stays where it was, as in the tissue model).
report::Map2D cross_section(const skin::Tissue& tissue, const healing::Engine& engine,
                            const std::vector<double>& ratios, int jm, bool after) {
  const grid::Grid& g = engine.grid();
  const skin::SkinPatch& patch = tissue.patch;
  const auto& base = engine.baselines();
  const double bottom = patch.dermis_bottom();
  report::Map2D m;
  m.nx = g.nx;
  m.x0 = 0.0;
  m.dx = g.dx * 1e3;
  m.x_label = "x (mm)";
  m.y_label = "depth (\u00b5m)";
  m.value_label = "collagen I + III (mg/mL)";
  m.y_down = true;
  // Non-uniform z: resampled on a uniform depth grid for display.
  const int rows = 160;
  m.ny = rows;
  m.y0 = 0.0;
  m.dy = g.depth() * 1e6 / rows;
  const grid::ConstFieldView c1 = tissue.fields.view(skin::field::kCollagen1);
  const grid::ConstFieldView c3 = tissue.fields.view(skin::field::kCollagen3);
  const grid::ConstFieldView h1 = engine.fields().view("collagen1");
  const grid::ConstFieldView h3 = engine.fields().view("collagen3");
  const double y = g.yc(jm);
  std::vector<double> s_before(static_cast<std::size_t>(g.nx)),
      s_after(static_cast<std::size_t>(g.nx));
  for (int i = 0; i < g.nx; ++i) {
    const double x = g.xc(i);
    double sa = 0;
    std::size_t li = 0;
    for (const auto& l : patch.lesions()) sa = std::max(sa, l->depression(x, y) * ratios[li++]);
    s_before[static_cast<std::size_t>(i)] = patch.surface_depth(x, y);
    s_after[static_cast<std::size_t>(i)] = sa;
  }
  m.v.assign(static_cast<std::size_t>(rows) * static_cast<std::size_t>(g.nx), kNaN);
  for (int i = 0; i < g.nx; ++i) {
    const double sb = s_before[static_cast<std::size_t>(i)];
    const double sa = after ? s_after[static_cast<std::size_t>(i)] : sb;
    const int top_k = tissue.surface_k[static_cast<std::size_t>(i + jm * g.nx)];
    for (int r = 0; r < rows; ++r) {
      const double z = (r + 0.5) * g.depth() / rows;
      if (z < sa) continue;  // air above the surface
      // The depth in the tissue before that this point shows.
      double zb = z;
      if (after && z < bottom && bottom > sa) zb = sb + (z - sa) * (bottom - sb) / (bottom - sa);
      const int k = std::max(g.k_of_depth(std::min(zb, g.depth() * (1 - 1e-12))), top_k);
      if (k >= g.nz) continue;
      const int l = engine.layer_of()[static_cast<std::size_t>(g.at(i, jm, k))];
      if (l == 0) continue;
      double v = static_cast<double>(c1(i, jm, k)) + c3(i, jm, k);
      if (after) {
        // The healing response relative to the layer's baseline, applied to the local (possibly
        // scarred) composition.
        const auto& b = base[static_cast<std::size_t>(l - 1)];
        const double b13 = b.collagen1 + b.collagen3;
        if (b13 > 0) v *= (static_cast<double>(h1(i, jm, k)) + h3(i, jm, k)) / b13;
      }
      m.v[static_cast<std::size_t>(r) * static_cast<std::size_t>(g.nx) +
          static_cast<std::size_t>(i)] = static_cast<float>(v);
    }
  }
  if (after) {
    for (double s : s_before) m.outline.push_back(s * 1e6);
  }
  return m;
}

/// "along x at y = 3.0 mm, across 2 of the 3 scars".
std::string cross_section_where(const grid::Grid& g, const skin::SkinPatch& patch, int jm) {
  const double y = g.yc(jm);
  int crossed = 0;
  for (const auto& l : patch.lesions()) {
    bool hit = false;
    for (int i = 0; i < g.nx && !hit; ++i) hit = l->depression(g.xc(i), y) > 0;
    crossed += hit ? 1 : 0;
  }
  const std::size_t n = patch.lesions().size();
  if (n == 0) return fmt::format("along x at y = {:.1f} mm", y * 1e3);
  return fmt::format("along x at y = {:.1f} mm, across {} of the {} scar{}", y * 1e3, crossed, n,
                     n == 1 ? "" : "s");
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
    pr.label = fmt::format("{} scar ({})", kind_name(s.type), s.id);
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
      {"Erythema (downtime)", "", protocol::erythema_text(o.erythema_days, true), "per session"},
      {"Post-inflammatory hyperpigmentation risk", "", num(100.0 * o.pih_risk, 1) + " %", ""},
      {"Punctures that bled", "", num(100.0 * o.bleeding_fraction, 0) + " %",
       "pinpoint bleeding endpoint"},
      {"Punctures past the dermis", "", num(100.0 * o.past_dermis_fraction, 1) + " %",
       "into the hypodermis (fat)"},
      {"Scar depth reduction, reduced model", "", num(o.reduced_scar_depth_reduction_pct, 1) + " %",
       "cross-check of the 3D result"}};
  // The score row by row: scars in the row and the row's points (its points times the
  // multiplier of its count), before and after; then why the score moved.
  const std::ptrdiff_t score_rows_at = 1;  // under the score
  std::vector<report::OutcomeRow> by_row;
  for (const auto& r : gb.change.rows) {
    by_row.push_back(
        {fmt::format("  score row: {} ({} point{})", outcomes::row_name(r.row),
                     outcomes::row_points(r.row), outcomes::row_points(r.row) == 1 ? "" : "s"),
         fmt::format("{} scars, {} pts", r.count_before, r.points_before),
         fmt::format("{} scars, {} pts", r.count_after, r.points_after),
         fmt::format("x{} -> x{} for the count", outcomes::count_multiplier(r.count_before),
                     outcomes::count_multiplier(r.count_after))});
  }
  rows.insert(rows.begin() + score_rows_at, by_row.begin(), by_row.end());
  for (const auto& m : gb.change.moved) {
    rows.push_back(
        {fmt::format("Scar changing score row: {}", m.kind),
         num(m.depth_before * 1e6, 0) + " \u00b5m", num(m.depth_after * 1e6, 0) + " \u00b5m",
         fmt::format("{} -> {}", outcomes::row_name(m.row_before),
                     m.row_after == outcomes::GbRow::NotGraded ? "lost in the skin texture"
                                                               : outcomes::row_name(m.row_after))});
  }
  for (const auto& s : o.scars) {
    rows.push_back({fmt::format("Scar depth: {}", s.type),
                    num(s.depth_before * 1e6, 0) + " \u00b5m",
                    num(s.depth_after * 1e6, 0) + " \u00b5m", ""});
  }
  for (const auto& c : gb.face) {
    std::string cls = c.face.cls;  // "boxcar_shallow" -> "boxcar shallow"
    std::replace(cls.begin(), cls.end(), '_', ' ');
    rows.push_back({fmt::format("Face inventory: {} x {}", c.face.count, cls),
                    num(c.face.depth * 1e6, 0) + " \u00b5m",
                    num(c.depth_after * 1e6, 0) + " \u00b5m", c.how});
  }
  return rows;
}

/// The consultation's summary sentences: who, where, with what, what was done.
std::vector<std::string> summary_sentences(const ReportText& text, const RunRecord& rec,
                                           const protocol::Course& course,
                                           const skin::SkinPatch& patch) {
  const skin::PatientSpec& pt = text.patient;
  std::vector<std::string> w;
  w.push_back(fmt::format("A {:.0f}-year-old {} with {}, treated on the {}.", pt.age_years,
                          pt.sex == skin::Sex::Female ? "woman" : "man",
                          report::fitzpatrick_words(pt.fitzpatrick), site_name(pt.site)));
  const std::size_t n = course.sessions.size();
  std::string what;
  if (!rec.first_stats.is_null()) {
    what =
        fmt::format("Treatment with {}, {} passes over the skin per session",
                    device_words(rec.first_stats), rec.first_stats["technique"].value("passes", 0));
  } else {
    what = "Treatment";
  }
  if (n > 1) {
    what += fmt::format(": {} sessions {} apart", n,
                        span_words(course.sessions[1].time - course.sessions[0].time));
  } else {
    what += ": a single session";
  }
  const double last = n > 0 ? course.sessions.back().time : 0.0;
  what += fmt::format(". The outcome is assessed on day {}, {} after the last session.",
                      std::lround(course.end_time / kDay), span_words(course.end_time - last));
  w.push_back(what);
  const std::size_t scars = patch.lesions().size();
  w.push_back(fmt::format("The simulation covers a {:.0f} mm x {:.0f} mm patch of the skin{}.",
                          patch.width() * 1e3, patch.length() * 1e3,
                          scars == 0
                              ? std::string(" without scars")
                              : fmt::format(" with {} scar{}", scars, scars == 1 ? "" : "s")));
  return w;
}

/// The predictive bands in plain words: what each of the two ranges means, and a table row per
/// outcome with its point and both ranges.
void band_sentences(const OutcomeBands& b, report::Consultation& c) {
  c.uncertainty.push_back(
      "Two different things make the real result uncertain, and they are shown apart below. "
      "First, what the model does not know: its fitted healing rates are known only within a "
      "range from the published studies it was fitted to, and repeating the prediction with "
      "values drawn from that range gives the first range. Second, how people differ: patients "
      "like this one heal faster or slower, and repeating the prediction for such patients "
      "gives the second range.");
  c.uncertainty.push_back(fmt::format(
      "Each range runs from the 10th to the 90th percentile of {} repeats; both come from the "
      "model's simpler reduced form, placed around this simulation's result, so they show the "
      "spread, not a guarantee. The first range covers only the fitted rates: values the model "
      "assumes without a study to fit them to (for example how scar tissue is remodelled) are "
      "not varied, so a range that does not move is not a certainty.",
      b.posterior_draws));
  auto fmt_value = [](const OutcomeBand& o, double v) {
    if (o.unit == "%") return fmt::format("{:.0f} %", v);
    if (o.unit == "fraction") return fmt::format("{:.1f} %", 100.0 * v);
    if (o.unit == "days") return protocol::erythema_text(v, true);
    if (o.unit == "h") return fmt::format("{:.1f} hours", v);
    return fmt::format("{:.0f}", v);
  };
  auto range = [&](const OutcomeBand& o, const protocol::Band& q) {
    return fmt::format("{} to {}", fmt_value(o, o.around_point(q.p10)),
                       fmt_value(o, o.around_point(q.p90)));
  };
  for (const OutcomeBand& o : b.outputs) {
    const char* what = o.name == "scar_depth_reduction_pct"           ? "Scars shallower by"
                       : o.name == "goodman_baron_quantitative_after" ? "Scar score after"
                       : o.name == "goodman_baron_qualitative_after"  ? "Scar grade after"
                       : o.name == "collagen_change_pct_papillary" ? "More collagen under the skin"
                       : o.name == "erythema_days"                 ? "Redness after each session"
                       : o.name == "pih_risk"                      ? "Risk of dark marks (PIH)"
                       : o.name == "barrier_recovery_hours"        ? "Skin barrier closed after"
                                                                   : nullptr;
    if (what == nullptr) continue;
    c.bands.push_back(
        {what, fmt_value(o, o.point), range(o, o.parameter), range(o, o.variability)});
  }
}

/// The consultation part: summary, each scar, grades, side effects, safety, uncertainty.
report::Consultation consultation(const ReportText& text, const RunRecord& rec,
                                  const protocol::Course& course, const skin::SkinPatch& patch,
                                  const Outcome& o) {
  report::Consultation c;
  c.summary = summary_sentences(text, rec, course, patch);
  std::size_t index = 0;
  double graded_sum = 0;
  int graded = 0;
  for (const auto& l : patch.lesions()) {
    const ScarOutcome& s = o.scars.at(index++);
    const outcomes::ScarGeometry geo = outcomes::scar_geometry(*l);
    const std::string words = kind_words(s.type);
    c.scars.push_back(
        {fmt::format("{} scar {}{}, {:.1f} mm wide", kind_name(s.type), index,
                     words.empty() ? std::string() : " (" + words + ")", geo.width * 1e3),
         s.depth_before * 1e6, s.depth_after * 1e6});
    if (lesions::grading_kind(s.type).grading != lesions::GradingClass::NotGraded &&
        s.depth_before > 0) {
      graded_sum += 100.0 * (1.0 - s.depth_after / s.depth_before);
      ++graded;
    }
  }
  if (!c.scars.empty()) {
    c.scars_note =
        "Depth after: at the end of follow-up, the scar floor raised by the new collagen the "
        "simulated healing laid down under each scar, against the skin around it.";
  }
  const GoodmanBaron& gb = o.goodman_baron;
  c.grade_before = gb.qualitative_before;
  c.grade_after = gb.qualitative_after;
  c.score_before = gb.quantitative_before;
  c.score_after = gb.quantitative_after;
  c.score_rows = gb.change.row_lines();
  c.score_note = gb.change.explanation();
  if (gb.face_inventory) {
    long long scars = 0;
    for (const auto& k : gb.face) scars += k.face.count;
    c.graded_on = fmt::format(
        "the patient's whole face ({} scars), each type of scar changing as the simulated scars of "
        "its type",
        scars);
  } else {
    c.graded_on = fmt::format("the {} simulated scar{}, on the scale used for a whole face",
                              o.scars.size(), o.scars.size() == 1 ? "" : "s");
  }
  c.erythema_days = o.erythema_days;
  c.barrier_hours = o.barrier_recovery_hours;
  c.fitzpatrick = text.patient.fitzpatrick;
  c.pih_risk = o.pih_risk;
  if (c.fitzpatrick >= 1 && c.fitzpatrick <= 6) {
    c.pih_limit =
        outcomes::default_outcome_params().pih_cap[static_cast<std::size_t>(c.fitzpatrick - 1)];
  }
  if (!rec.first_stats.is_null()) c.depth_reached_um = o.depth_mean * 1e6;
  c.dermis_bottom_um = o.dermis_bottom * 1e6;
  c.past_dermis_fraction = o.past_dermis_fraction;
  if (o.bands) {
    band_sentences(*o.bands, c);
  } else {
    c.uncertainty.push_back(
        "This run simulates a typical patient with these characteristics once: no uncertainty "
        "band was computed ([output] band_draws = 0). People heal at different speeds, so the "
        "real change may be larger or smaller; mnsim plan and mnsim cohort repeat the "
        "prediction for many virtual patients and give a likely range (10th to 90th "
        "percentile).");
  }
  if (graded > 0) {
    c.uncertainty.push_back(fmt::format(
        "As a check of the model itself, its simpler reduced form predicts the scars {:.0f} % "
        "shallower on average, against {:.0f} % in this simulation: the difference shows how much "
        "the answer depends on modelling choices, not how much patients differ.",
        o.reduced_scar_depth_reduction_pct, graded_sum / graded));
  }
  return c;
}

/// Every session and the outcome assessment, dated when the course has a start date.
std::vector<report::CalendarEntry> calendar(const protocol::Course& course, const RunRecord& rec,
                                            const Outcome& o) {
  std::vector<report::CalendarEntry> cal;
  const int passes =
      rec.first_stats.is_null() ? 0 : rec.first_stats["technique"].value("passes", 0);
  for (const auto& s : course.sessions) {
    std::string what = "Microneedling";
    if (passes > 0) what += fmt::format(", {} passes", passes);
    if (o.density_mean > 0)
      what += fmt::format(" (about {:.0f} punctures per cm\u00b2)", o.density_mean * 1e-4);
    cal.push_back({s.index + 1, s.date, s.time / kDay, what});
  }
  const long end_day = std::lround(course.end_time / kDay);
  const double last = course.sessions.empty() ? 0.0 : course.sessions.back().time;
  cal.push_back(
      {0,
       course.start_date.empty() ? std::string() : protocol::add_days(course.start_date, end_day),
       course.end_time / kDay,
       fmt::format("Outcome assessed, {} after the last session: scars compared with "
                   "before",
                   span_words(course.end_time - last))});
  return cal;
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
  rd.consultation = consultation(text, rec, course, tissue.patch, outcome);
  rd.scenario_in_words = in_words(text, engine.grid(), tissue.patch, rec, outcome, course);
  rd.numerics = numerics_rows(engine);
  if (outcome.bands) {
    rd.numerics.emplace_back(
        "Predictive bands",
        fmt::format("{} reduced-model evaluations ({} posterior draws, {} patient-variability "
                    "draws), {:.2f} s of CPU",
                    outcome.bands->evaluations, outcome.bands->posterior_draws,
                    outcome.bands->variability_draws, outcome.bands->cpu_seconds));
  }
  rd.scenario_toml = text.scenario_toml;
  rd.run_metadata = text.run_metadata;
  punctures_of_session_one(rec, area, rd);
  rd.series = time_courses(rec.ts);
  for (const auto& s : course.sessions) rd.session_days.push_back(s.time / kDay);
  const std::vector<double> ratios = depth_ratios(outcome, tissue.patch.lesions().size());
  const int jm = cross_section_row(engine.grid(), tissue.patch);
  rd.cross_section_before = cross_section(tissue, engine, ratios, jm, false);
  rd.cross_section_after = cross_section(tissue, engine, ratios, jm, true);
  rd.cross_section_where = cross_section_where(engine.grid(), tissue.patch, jm);
  rd.scars = scar_profiles(tissue.patch, outcome);
  rd.outcomes = outcome_rows(outcome);
  rd.calendar = calendar(course, rec, outcome);
  return rd;
}

}  // namespace mnsim
