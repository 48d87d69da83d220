#include "run/assess.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>

#include "healing/team.hpp"
#include "outcomes/goodman_baron.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/reduced.hpp"

namespace mnsim {

namespace {

/// Where a face class's depth and width come from, for summary.json.
std::string geometry_source(const outcomes::FaceClass& c) {
  if (c.depth_given && c.width_given) return "given";
  if (c.depth_given) return "depth given, width mid-range";
  if (c.width_given) return "width given, depths spread over the class range";
  return "width mid-range, depths spread over the class range";
}

/// summary.json `outcome.goodman_baron`: the grades, the inventory they are on and, on a face
/// inventory, its classes (keyed by class).
nlohmann::json to_json(const GoodmanBaron& gb) {
  nlohmann::json j = {{"qualitative_before", gb.qualitative_before},
                      {"qualitative_after", gb.qualitative_after},
                      {"quantitative_before", gb.quantitative_before},
                      {"quantitative_after", gb.quantitative_after},
                      {"graded_on", gb.graded_on()}};
  // The score row by row (points per row times the multiplier of its count), the scars that
  // changed row, and why the score moved (a rise with milder scars is the published arithmetic).
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : gb.change.rows) {
    rows.push_back({{"row", outcomes::row_name(r.row)},
                    {"row_points", outcomes::row_points(r.row)},
                    {"count_before", r.count_before},
                    {"count_after", r.count_after},
                    {"points_before", r.points_before},
                    {"points_after", r.points_after}});
  }
  nlohmann::json moved = nlohmann::json::array();
  for (const auto& m : gb.change.moved) {
    moved.push_back({{"scar", m.index},
                     {"kind", m.kind},
                     {"depth_um_before", m.depth_before * 1e6},
                     {"depth_um_after", m.depth_after * 1e6},
                     {"row_before", outcomes::row_name(m.row_before)},
                     {"row_after", outcomes::row_name(m.row_after)}});
  }
  j["quantitative_rows"] = std::move(rows);
  j["scars_changing_row"] = std::move(moved);
  j["scars_shallower"] = gb.change.shallower;
  j["scars_deeper"] = gb.change.deeper;
  j["score_rose_with_milder_scars"] = gb.change.rose_with_milder_scars();
  j["score_change"] = gb.change.explanation();
  if (!gb.face_inventory) return j;
  nlohmann::json face = nlohmann::json::object();
  for (const auto& c : gb.face) {
    face[c.face.cls] = {{"kind", c.face.kind},
                        {"count", c.face.count},
                        {"width_um", c.face.width * 1e6},
                        {"depth_um_before", c.face.depth * 1e6},
                        {"depth_um_after", c.depth_after * 1e6},
                        {"geometry", geometry_source(c.face)},
                        {"simulated", c.simulated()},
                        {"patch_scars", c.patch_scars},
                        {"relative_depth_change", c.relative_change},
                        {"change", c.how}};
  }
  j["face"] = std::move(face);
  return j;
}

}  // namespace

nlohmann::json to_json(const Outcome& o) {
  nlohmann::json scars = nlohmann::json::array();
  for (const auto& s : o.scars) {
    scars.push_back({{"id", s.id},
                     {"type", s.type},
                     {"description", s.description},
                     {"depth_um_before", s.depth_before * 1e6},
                     {"depth_um_after", s.depth_after * 1e6},
                     {"volume_mm3_before", s.volume_before * 1e9},
                     {"volume_mm3_after", s.volume_after * 1e9},
                     {"floor_rise_um", s.rise_under * 1e6},
                     {"rim_rise_um", s.rise_around * 1e6},
                     {"band_intact_fraction", s.band_intact},
                     {"band_failed", s.band_failed}});
  }
  nlohmann::json course = nlohmann::json::array();
  for (const auto& c : o.channel_course) {
    course.push_back({{"hours", c[0]}, {"open_fraction", c[1]}, {"tewl_excess", c[2]}});
  }
  const nlohmann::json channels = {
      {"closure_hours",
       o.channel_closure_hours >= 0.0 ? nlohmann::json(o.channel_closure_hours) : nullptr},
      {"course", course}};
  return {{"collagen_change_pct",
           {{"papillary", o.collagen_change_pct_papillary},
            {"reticular", o.collagen_change_pct_reticular}}},
          {"elastin_change_pct", o.elastin_change_pct},
          {"epidermal_thickness_change_pct", o.epidermal_thickness_change_pct},
          {"bleeding_fraction", o.bleeding_fraction},
          {"punctures_past_dermis_fraction", o.past_dermis_fraction},
          {"scars", scars},
          {"goodman_baron", to_json(o.goodman_baron)},
          {"barrier_recovery_hours", o.barrier_recovery_hours},
          {"channels", channels},
          {"erythema_days", o.erythema_days},
          {"pih_risk", o.pih_risk},
          {"reduced_model",
           {{"collagen_change_pct_papillary", o.reduced_collagen_change_pct_papillary},
            {"scar_depth_reduction_pct", o.reduced_scar_depth_reduction_pct}}}};
}

std::string safety_warning(const Outcome& o, const std::string& site) {
  if (!(o.past_dermis_fraction > 0.0)) return {};
  const double pct = 100.0 * o.past_dermis_fraction;
  return fmt::format(
      "{}% of the punctures reached past the dermis into the hypodermis (the dermis ends {:.2f} "
      "mm below the surface at site {}): a shorter needle or a shallower depth keeps them in the "
      "dermis.",
      pct >= 1.0 ? fmt::format("{:.0f}", pct) : fmt::format("{:.2g}", pct), o.dermis_bottom * 1e3,
      site);
}

namespace {

double pct(double now, double before) {
  return before > 0 ? 100.0 * (now / before - 1.0) : 0.0;
}

/// Samples per column along x and y when a footprint is found (rise_columns).
constexpr int kFootprintSamples = 4;

/// The columns of a scar's footprint and of the ring around it (half the scar's size wide,
/// outside every depression), with their samples in each (ScarFootprint).
std::vector<ScarFootprint::Column> rise_columns(const lesions::Lesion& l,
                                                const skin::SkinPatch& patch, const grid::Grid& g) {
  const lesions::Box b = l.bounds();
  const double grow = 0.5 * std::max(b.x1 - b.x0, b.y1 - b.y0);
  constexpr int kSamples = kFootprintSamples;
  std::vector<ScarFootprint::Column> out;
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      const double x0 = g.xc(i) - 0.5 * g.dx, y0 = g.yc(j) - 0.5 * g.dx;
      if (x0 + g.dx < b.x0 - grow || x0 > b.x1 + grow || y0 + g.dx < b.y0 - grow ||
          y0 > b.y1 + grow)
        continue;
      int n_u = 0, n_a = 0;
      for (int a = 0; a < kSamples; ++a)
        for (int c = 0; c < kSamples; ++c) {
          const double x = x0 + (a + 0.5) * g.dx / kSamples;
          const double y = y0 + (c + 0.5) * g.dx / kSamples;
          if (l.depression(x, y) > 0.0) {
            ++n_u;
          } else if (x > b.x0 - grow && x < b.x1 + grow && y > b.y0 - grow && y < b.y1 + grow &&
                     patch.surface_depth(x, y) <= 0.0) {
            ++n_a;
          }
        }
      if (n_u > 0 || n_a > 0) out.push_back({static_cast<std::size_t>(i + j * g.nx), n_u, n_a});
    }
  return out;
}

/// Mean rise of the footprint under a scar and of the skin around it (rise_columns), each region's
/// rise its matrix volume (Engine::region_rise): the growth law on the region's mean matrix per
/// cell level and layer. A column the scar touches holds its deficit over the share it covers
/// (Engine::seed_lesions): the whole column counts in the footprint's amount, over the
/// footprint's area (its samples under the scar), and not in the rim; the rim's columns count
/// with their samples in the ring. The regions are prepared once (ScarFootprint::under, around).
void prepare_rise_regions(ScarFootprint& f, const healing::Engine& engine) {
  const grid::Grid& g = engine.grid();
  const std::size_t columns = static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny);
  std::vector<double> under(columns, 0.0), around(columns, 0.0);
  double footprint = 0.0;  // columns
  for (const ScarFootprint::Column& c : f.columns) {
    under[c.at] = c.under > 0 ? 1.0 : 0.0;
    around[c.at] = c.under > 0 ? 0.0 : c.around;
    footprint += static_cast<double>(c.under) / (kFootprintSamples * kFootprintSamples);
  }
  f.under = engine.rise_region(under, footprint);
  f.around = engine.rise_region(around);
}

/// Goodman & Baron before and after: on the face inventory, each class mapped from the patch's
/// scars, when the scenario has one; else on the patch's scars.
GoodmanBaron goodman_baron(const std::vector<ScarOutcome>& scars,
                           const std::vector<outcomes::ScarState>& patch_before,
                           const std::vector<outcomes::ScarState>& patch_after,
                           const std::optional<outcomes::FaceSpec>& face,
                           const outcomes::GradingRules& grading) {
  GoodmanBaron gb;
  const std::vector<outcomes::ScarState>* before = &patch_before;
  const std::vector<outcomes::ScarState>* after = &patch_after;
  outcomes::FaceMapping mapped;
  if (face) {
    std::vector<outcomes::PatchScar> patch;
    for (const auto& s : scars) patch.push_back({s.type, s.depth_before, s.depth_after});
    mapped = outcomes::map_onto_face(*face, patch);
    gb.face_inventory = true;
    gb.face = mapped.classes;
    before = &mapped.before;
    after = &mapped.after;
  }
  gb.qualitative_before = outcomes::qualitative_grade(*before, grading);
  gb.qualitative_after = outcomes::qualitative_grade(*after, grading);
  gb.quantitative_before = outcomes::quantitative_score(*before, grading);
  gb.quantitative_after = outcomes::quantitative_score(*after, grading);
  gb.change = outcomes::score_change(*before, *after, grading);
  return gb;
}

/// The wound of one needle of a non-empty session: the mean track radius after elastic recoil
/// (healing::apply_puncture).
double recoiled_radius(const devices::Punctures& punctures, const healing::Params& params) {
  double sum = 0.0;
  for (const auto& pu : punctures) sum += pu.radius;
  return params.channel_recoil * sum / static_cast<double>(punctures.size());
}

}  // namespace

Delivered delivered(const RunRecord& rec, const devices::Rect& area,
                    const healing::Params& params) {
  Delivered d;
  d.sessions = static_cast<int>(rec.sessions.size());
  d.density_mean = rec.sessions.empty()
                       ? 0.0
                       : static_cast<double>(rec.puncture_total) /
                             static_cast<double>(rec.sessions.size()) / area.area();
  d.depth_mean = rec.sessions.empty() ? 0.0 : rec.sessions.front().depth_um_mean * 1e-6;
  // The wound of one needle: its track after elastic recoil (healing::apply_puncture).
  d.wound_radius = rec.first_punctures.empty() ? outcomes::default_outcome_params().channel_radius
                                               : recoiled_radius(rec.first_punctures, params);
  // RF needles: the mean coagulation zone of those that carry one (the reduced model's thermal
  // injury in the cross-check).
  double n = 0.0;
  for (const auto& pu : rec.first_punctures) {
    if (!pu.coagulated()) continue;
    d.zone.radius += pu.coag_radius;
    d.zone.top += pu.coag_top;
    d.zone.bottom += pu.coag_bottom;
    d.zone.denatured += pu.coag_denatured;
    n += 1.0;
  }
  if (n > 0.0) {
    d.zone.radius /= n;
    d.zone.top /= n;
    d.zone.bottom /= n;
    d.zone.denatured /= n;
  }
  return d;
}

std::vector<outcomes::ScarGeometry> scar_geometries(const skin::SkinPatch& patch) {
  return protocol::patch_scars(patch);
}

std::vector<ScarFootprint> scar_footprints(const healing::Engine& engine,
                                           const skin::SkinPatch& patch) {
  const grid::Grid& g = engine.grid();
  const bool scar_field = engine.model().find("scar_matrix") >= 0;
  const auto rd = static_cast<std::uint8_t>(skin::layer_index(skin::Layer::ReticularDermis) + 1);
  std::vector<ScarFootprint> out;
  for (const auto& l : patch.lesions()) {
    ScarFootprint f;
    f.columns = rise_columns(*l, patch, g);
    prepare_rise_regions(f, engine);
    const double d0 = l->effects().collagen_deficit;
    f.scar_matrix = scar_field && d0 > 0.0;
    if (f.scar_matrix) {
      for (int j = 0; j < g.ny; ++j)
        for (int i = 0; i < g.nx; ++i) {
          if (!(l->depression(g.xc(i), g.yc(j)) > 0.0)) continue;
          for (int k = 0; k < g.nz; ++k) {
            const std::ptrdiff_t at = g.at(i, j, k);
            if (engine.layer_of()[static_cast<std::size_t>(at)] != rd) continue;
            f.reticular.push_back(at);
            f.reticular_deficit += d0;
          }
        }
    }
    out.push_back(std::move(f));
  }
  return out;
}

double scar_matrix_left(const ScarFootprint& f, const healing::Engine& engine) {
  if (!f.scar_matrix) return 1.0;
  const float* s = engine.fields().view(engine.model().find("scar_matrix")).data;
  double sum = 0.0;
  for (const std::ptrdiff_t at : f.reticular) sum += s[at];
  const double n = f.reticular_deficit;
  return n > 0.0 ? std::clamp(sum / n, 0.0, 1.0) : 1.0;
}

void band_session(std::vector<outcomes::TetherState>& tethers, const healing::Engine& engine,
                  const skin::SkinPatch& patch, const std::vector<outcomes::ScarGeometry>& geometry,
                  const std::vector<ScarFootprint>& footprints, const devices::Punctures& punctures,
                  const devices::Rect& area, const healing::Params& params, double t) {
  const outcomes::OutcomeParams& op = outcomes::default_outcome_params();
  tethers.resize(geometry.size());
  if (punctures.empty()) return;
  // This session's density, mean wound radius after recoil and mean depth reached (the reduced
  // model's dose of one session).
  const double radius = recoiled_radius(punctures, params);
  double depth = 0.0;
  for (const auto& pu : punctures) depth += pu.depth;
  const double n = static_cast<double>(punctures.size());
  depth /= n;
  const double density = n / area.area();
  const double epi = patch.profile().top_of(skin::Layer::PapillaryDermis);
  const double cut = outcomes::band_cut_fraction(density, radius, 1, depth > epi);
  for (std::size_t i = 0; i < geometry.size(); ++i) {
    if (!geometry[i].tethered) continue;
    tethers[i] =
        outcomes::tether_session(op, tethers[i], t, cut, scar_matrix_left(footprints.at(i), engine),
                                 protocol::band_mechanics(op, patch.profile(), geometry[i]));
  }
}

std::vector<ScarNow> scars_now(const healing::Engine& engine,
                               const std::vector<outcomes::ScarGeometry>& geometry,
                               const std::vector<ScarFootprint>& footprints,
                               const std::vector<outcomes::TetherState>& tethers, double t) {
  // The rise of each scar's floor against its rim (3D columns; outcomes/scar_remodel).
  const outcomes::OutcomeParams& op = outcomes::default_outcome_params();
  if (geometry.size() < footprints.size()) {
    throw std::logic_error("internal: scars_now needs a geometry per footprint");
  }
  // The rise under each scar and around it, one region per task (each reads the fields only),
  // on the run's threads; then each scar's remodelling.
  const auto n = static_cast<std::ptrdiff_t>(footprints.size());
  std::vector<double> rise(2 * footprints.size());
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1) if (n > 0 && healing::threads_pay(engine.grid()))
  for (std::ptrdiff_t q = 0; q < 2 * n; ++q) {
    try {
      const ScarFootprint& f = footprints[static_cast<std::size_t>(q / 2)];
      rise[static_cast<std::size_t>(q)] = engine.region_rise(q % 2 == 0 ? f.under : f.around);
    } catch (...) {
#pragma omp critical(mnsim_scars_now_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  std::vector<ScarNow> out(footprints.size());
  for (std::size_t index = 0; index < footprints.size(); ++index) {
    ScarNow& s = out[index];
    s.in.rise_under = rise[2 * index];
    s.in.rise_around = rise[2 * index + 1];
    const outcomes::TetherState band = index < tethers.size()
                                           ? outcomes::tether_at(op, tethers[index], t)
                                           : outcomes::TetherState{};
    const outcomes::ScarGeometry& geo = geometry[index];
    s.in.band_intact =
        geo.tethered ? band.strength() * scar_matrix_left(footprints[index], engine) : 1.0;
    s.in.band_failed = band.failed;
    s.r = outcomes::remodel_scar(op, geo, s.in);
  }
  return out;
}

Outcome assess(const healing::Engine& engine, const skin::SkinPatch& patch, const RunRecord& rec,
               const protocol::Course& course, const devices::Rect& area,
               const healing::Params& params, const skin::PatchSpec& patch_spec,
               const std::vector<std::string>& ids, const std::optional<outcomes::FaceSpec>& face) {
  Outcome o;
  // Layer means of the normal skin (outside the lesions' footprints, whose dermis starts with
  // their collagen deficit; each scar has its own outcome below) against their baselines.
  const healing::LayerMeans end = engine.layer_means(true);
  const auto& base = engine.baselines();
  const std::size_t pap = static_cast<std::size_t>(skin::layer_index(skin::Layer::PapillaryDermis));
  const std::size_t ret = static_cast<std::size_t>(skin::layer_index(skin::Layer::ReticularDermis));
  const std::size_t ve = static_cast<std::size_t>(skin::layer_index(skin::Layer::ViableEpidermis));
  const healing::Model& model = engine.model();
  const auto c1 = static_cast<std::size_t>(model.slot("collagen1"));
  const auto c3 = static_cast<std::size_t>(model.slot("collagen3"));
  const auto el = static_cast<std::size_t>(model.slot("elastin"));
  const auto eh = static_cast<std::size_t>(model.slot("epidermal_thickness"));
  auto collagen = [&](std::size_t l) { return end[l][c1] + end[l][c3]; };
  o.collagen_change_pct_papillary = pct(collagen(pap), base[pap].collagen1 + base[pap].collagen3);
  o.collagen_change_pct_reticular = pct(collagen(ret), base[ret].collagen1 + base[ret].collagen3);
  o.elastin_change_pct =
      pct(0.5 * (end[pap][el] + end[ret][el]), 0.5 * (base[pap].elastin + base[ret].elastin));
  o.epidermal_thickness_change_pct = 100.0 * (end[ve][eh] - 1.0);
  o.bleeding_fraction =
      rec.puncture_total > 0 ? rec.bleeding_sum / static_cast<double>(rec.puncture_total) : 0.0;
  double past = 0.0;
  for (const auto& s : rec.sessions)
    past += s.fraction_past_dermis * static_cast<double>(s.punctures);
  o.past_dermis_fraction =
      rec.puncture_total > 0 ? past / static_cast<double>(rec.puncture_total) : 0.0;
  o.dermis_bottom = patch.profile().top_of(skin::Layer::Hypodermis);

  // What the device delivered (every session of the course has run).
  const Delivered d = delivered(rec, area, params);
  o.density_mean = d.density_mean;
  o.depth_mean = d.depth_mean;
  o.wound_radius = d.wound_radius;
  o.zone = d.zone;

  // Scars: the rise of each scar's floor against its rim (3D columns; outcomes/scar_remodel).
  const outcomes::GradingRules grading =
      outcomes::load_grading_rules(protocol::default_grading_path());
  const std::vector<outcomes::ScarGeometry> geometry = scar_geometries(patch);
  const std::vector<ScarNow> now =
      scars_now(engine, geometry, scar_footprints(engine, patch), rec.tethers, course.end_time);
  std::vector<outcomes::ScarState> gb_before, gb_after;
  for (std::size_t i = 0; i < now.size(); ++i) {
    const outcomes::ScarGeometry& geo = geometry[i];
    const outcomes::RemodelResult& r = now[i].r;
    const outcomes::RemodelInput& in = now[i].in;
    const std::string& kind = geo.kind;  // graded as its kind says (lesions/registry.hpp)
    gb_before.push_back({kind, r.depth_before, geo.width});
    gb_after.push_back({kind, r.depth_after, geo.width});
    o.scars.push_back({ids.at(i), geo.kind, patch.lesions()[i]->describe(), r.depth_before,
                       r.depth_after, r.volume_before, r.volume_after, in.rise_under,
                       in.rise_around, in.band_intact, r.band_failed});
  }
  o.goodman_baron = goodman_baron(o.scars, gb_before, gb_after, face, grading);

  // Barrier, erythema and pigmentation are properties of single channels (sub-voxel): they come
  // from the per-channel and column models of the same equations (protocol/reduced.hpp), fed
  // with what the device delivered in this run.
  const protocol::ScenarioPrediction side = protocol::predict_scenario(
      patch_spec, course, o.depth_mean, o.density_mean, o.wound_radius, 6 * kHour, o.zone);
  o.barrier_recovery_hours = side.outcome.barrier_hours;
  o.channel_closure_hours = side.outcome.channel_closure_hours;
  o.channel_course = side.outcome.channel_course;
  o.erythema_days = side.outcome.erythema_days;
  o.pih_risk = side.outcome.pih_risk;
  o.reduced_collagen_change_pct_papillary = side.collagen_change_pct;
  o.reduced_scar_depth_reduction_pct = side.scar_depth_reduction_pct;
  return o;
}

}  // namespace mnsim
