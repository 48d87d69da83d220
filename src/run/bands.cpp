#include "run/bands.hpp"

#include <algorithm>
#include <filesystem>
#include <future>

#include "lesions/registry.hpp"
#include "protocol/bands.hpp"
#include "protocol/reduced.hpp"

namespace mnsim {

double OutcomeBand::around_point(double q) const {
  return std::clamp(point + (q - reduced), low, high);
}

std::optional<double> graded_depth_reduction_pct(const Outcome& o) {
  double sum = 0;
  int graded = 0;
  for (const ScarOutcome& s : o.scars) {
    if (lesions::grading_kind(s.type).grading != lesions::GradingClass::NotGraded &&
        s.depth_before > 0) {
      sum += 100.0 * (1.0 - s.depth_after / s.depth_before);
      ++graded;
    }
  }
  if (graded == 0) return std::nullopt;
  return sum / graded;
}

OutcomeBands run_bands(const Outcome& o, const skin::PatchSpec& patch_spec,
                       const protocol::Course& course, int draws, std::uint64_t seed, int threads) {
  using protocol::PatientOutcome;
  const protocol::ReducedModel m = protocol::ReducedModel::load_default();
  const skin::SkinPatch patch = skin::make_patch(patch_spec);
  const std::vector<outcomes::ScarGeometry> scars = protocol::patch_scars(patch);
  const protocol::PosteriorSample& post = protocol::default_posterior_sample();
  protocol::BandSettings s;
  s.posterior_draws = draws;
  s.variability_draws = draws;
  s.seed = seed;
  const protocol::BandDesign design(m, post, s);
  // The outputs, each with the run's point, its unit and range, and the reduced model's value.
  struct Def {
    const char* name;
    const char* unit;
    double point, low, high;
    double (*get)(const protocol::ScenarioPrediction&);
  };
  const std::optional<double> depth = graded_depth_reduction_pct(o);
  const GoodmanBaron& gb = o.goodman_baron;
  std::vector<Def> defs;
  if (depth) {
    defs.push_back(
        {"scar_depth_reduction_pct", "%", *depth, -1e9, 100.0,
         [](const protocol::ScenarioPrediction& p) { return p.scar_depth_reduction_pct; }});
    defs.push_back({"goodman_baron_quantitative_after", "points",
                    static_cast<double>(gb.quantitative_after), 0.0, 1e9,
                    [](const protocol::ScenarioPrediction& p) {
                      return static_cast<double>(p.outcome.gb_quant_after);
                    }});
    defs.push_back({"goodman_baron_qualitative_after", "grade",
                    static_cast<double>(gb.qualitative_after), 0.0, 4.0,
                    [](const protocol::ScenarioPrediction& p) {
                      return static_cast<double>(p.outcome.gb_qual_after);
                    }});
  }
  defs.push_back({"collagen_change_pct_papillary", "%", o.collagen_change_pct_papillary, -100.0,
                  1e9,
                  [](const protocol::ScenarioPrediction& p) { return p.collagen_change_pct; }});
  defs.push_back({"erythema_days", "days", o.erythema_days, 0.0, 1e9,
                  [](const protocol::ScenarioPrediction& p) { return p.outcome.erythema_days; }});
  defs.push_back({"pih_risk", "fraction", o.pih_risk, 0.0, 1.0,
                  [](const protocol::ScenarioPrediction& p) { return p.outcome.pih_risk; }});
  defs.push_back({"barrier_recovery_hours", "h", o.barrier_recovery_hours, 0.0, 1e9,
                  [](const protocol::ScenarioPrediction& p) { return p.outcome.barrier_hours; }});
  auto predict = [&](const protocol::ReducedModel& model, const protocol::RateFactors& rf) {
    return protocol::predict_scenario(model, patch.profile(), scars, course, o.depth_mean,
                                      o.density_mean, o.wound_radius, 6 * kHour, rf, o.zone);
  };
  std::vector<std::string> names;
  for (const Def& d : defs) names.emplace_back(d.name);
  // The shipped parameters' evaluation beside the draws' (33 evaluations on the run's threads
  // rather than 32 and then one while the other threads wait).
  std::future<protocol::ScenarioPrediction> nominal_later =
      std::async(std::launch::async, [&] { return predict(m, protocol::RateFactors{}); });
  const protocol::PredictiveBands pb = protocol::predictive_bands(
      design, names,
      [&](const protocol::ReducedModel& model, const protocol::RateFactors& rf) {
        const protocol::ScenarioPrediction p = predict(model, rf);
        std::vector<double> y;
        for (const Def& d : defs) y.push_back(d.get(p));
        return y;
      },
      threads);
  const protocol::ScenarioPrediction nominal = nominal_later.get();
  OutcomeBands out;
  for (std::size_t j = 0; j < defs.size(); ++j) {
    OutcomeBand b;
    b.name = defs[j].name;
    b.unit = defs[j].unit;
    b.point = defs[j].point;
    b.reduced = defs[j].get(nominal);
    b.low = defs[j].low;
    b.high = defs[j].high;
    b.parameter = pb.parameter[j];
    b.variability = pb.variability[j];
    out.outputs.push_back(std::move(b));
  }
  out.posterior_draws = s.posterior_draws;
  out.variability_draws = s.variability_draws;
  out.evaluations = pb.evaluations;
  out.cpu_seconds = pb.cpu_seconds;
  out.wall_seconds = pb.wall_seconds;
  out.posterior_file = "data/" + std::filesystem::path(post.path).filename().string();
  out.posterior_command = post.command;
  return out;
}

nlohmann::json to_json(const OutcomeBands& b) {
  auto band = [](const OutcomeBand& o, const protocol::Band& q) {
    return nlohmann::json{{"p10", o.around_point(q.p10)},
                          {"p50", o.around_point(q.p50)},
                          {"p90", o.around_point(q.p90)},
                          {"reduced_model", {{"p10", q.p10}, {"p50", q.p50}, {"p90", q.p90}}}};
  };
  nlohmann::json param = {{"what", protocol::kParameterBandWords}, {"draws", b.posterior_draws}};
  nlohmann::json var = {{"what", protocol::kVariabilityBandWords}, {"draws", b.variability_draws}};
  nlohmann::json point = nlohmann::json::object(), reduced = nlohmann::json::object(),
                 units = nlohmann::json::object();
  for (const OutcomeBand& o : b.outputs) {
    point[o.name] = o.point;
    reduced[o.name] = o.reduced;
    units[o.name] = o.unit;
    param[o.name] = band(o, o.parameter);
    var[o.name] = band(o, o.variability);
  }
  return {{"method",
           "the reduced model (docs/cohort.md) of this scenario's patch, course and delivered "
           "dose, evaluated at each draw; each band is the 3D run's point plus (reduced-model "
           "quantile - reduced-model value at the shipped parameters), clamped to the output's "
           "range; reduced_model holds the unshifted quantiles"},
          {"point", point},
          {"reduced_model_point", reduced},
          {"units", units},
          {"parameter_uncertainty", param},
          {"patient_variability", var},
          {"posterior_sample", {{"file", b.posterior_file}, {"command", b.posterior_command}}},
          {"evaluations", b.evaluations}};
}

}  // namespace mnsim
