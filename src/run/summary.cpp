#include "run/summary.hpp"

#include <fmt/format.h>

#include <string_view>

#include "outcomes/face_inventory.hpp"
#include "protocol/plan.hpp"
#include "run/bands.hpp"

namespace mnsim {

namespace {

/// The Goodman & Baron lines: the grades and which inventory they are on (summary.json
/// `outcome.goodman_baron`); with a face inventory, a line of its classes.
std::string goodman_baron_text(const nlohmann::json& outcome) {
  const auto& gbo = outcome["goodman_baron"];
  // (A summary.json written before the rows were recorded has none: then only the scores.)
  const nlohmann::json none = nlohmann::json::array();
  std::string rows;  // the score row by row, before -> after
  for (const auto& r : gbo.contains("quantitative_rows") ? gbo["quantitative_rows"] : none) {
    rows += fmt::format("{}{} ({}) {} -> {} scars, {} -> {} points", rows.empty() ? "" : "; ",
                        r["row"].get<std::string>(), r["row_points"].get<int>(),
                        r["count_before"].get<int>(), r["count_after"].get<int>(),
                        r["points_before"].get<int>(), r["points_after"].get<int>());
  }
  std::string moved;  // the scars that changed row, each with its depth change
  for (const auto& m : gbo.contains("scars_changing_row") ? gbo["scars_changing_row"] : none) {
    moved += fmt::format("{}{} {:.0f} -> {:.0f} um ({} -> {})", moved.empty() ? "" : "; ",
                         m["kind"].get<std::string>(), m["depth_um_before"].get<double>(),
                         m["depth_um_after"].get<double>(), m["row_before"].get<std::string>(),
                         m["row_after"].get<std::string>());
  }
  const std::string grades = fmt::format(
      "quantitative {} -> {}, qualitative grade {} -> {}\n{}{}{}",
      gbo["quantitative_before"].get<int>(), gbo["quantitative_after"].get<int>(),
      gbo["qualitative_before"].get<int>(), gbo["qualitative_after"].get<int>(),
      rows.empty() ? std::string() : fmt::format("score by row (points per row): {}\n", rows),
      moved.empty() ? std::string() : fmt::format("scars that changed row: {}\n", moved),
      gbo.contains("score_change") ? fmt::format("{}\n", gbo["score_change"].get<std::string>())
                                   : std::string());
  if (!gbo.contains("face")) {
    const std::size_t n = outcome["scars"].size();
    return fmt::format(
        "Goodman & Baron on the patch scars ({} lesion{} of the simulated patch graded on a "
        "whole-face scale; [face] grades a face inventory): {}",
        n, n == 1 ? "" : "s", grades);
  }
  long long scars = 0;
  std::string classes;
  for (const auto& cls : outcomes::face_classes()) {
    if (!gbo["face"].contains(cls)) continue;
    const auto& c = gbo["face"][cls];
    scars += c["count"].get<long long>();
    classes += fmt::format("{}{} {} x {:.0f} -> {:.0f} um ({})", classes.empty() ? "" : ", ", cls,
                           c["count"].get<long long>(), c["depth_um_before"].get<double>(),
                           c["depth_um_after"].get<double>(), c["change"].get<std::string>());
  }
  return fmt::format(
      "Goodman & Baron on the face inventory ({} scars, depth changes mapped from the patch): "
      "{}face inventory: {}\n",
      scars, grades, classes);
}

/// The predictive bands' line (summary.json `bands`): the headline output's two bands, or "" when
/// the run computed none.
std::string bands_text(const nlohmann::json& summary) {
  if (!summary.contains("bands")) return {};
  const auto& b = summary["bands"];
  const char* key = b["point"].contains("scar_depth_reduction_pct")
                        ? "scar_depth_reduction_pct"
                        : "collagen_change_pct_papillary";
  auto range = [&](const char* src) {
    const auto& q = b[src][key];
    return fmt::format("{:.1f} to {:.1f} %", q["p10"].get<double>(), q["p90"].get<double>());
  };
  return fmt::format(
      "bands (10-90 %, reduced model around this run): {} {} (parameter uncertainty), {} "
      "(patient variability)\n",
      std::string_view(key) == "scar_depth_reduction_pct" ? "scar depth reduction"
                                                          : "papillary collagen change",
      range("parameter_uncertainty"), range("patient_variability"));
}

}  // namespace

nlohmann::json summary_json(nlohmann::json run, nlohmann::json scenario, const RunRecord& rec,
                            const healing::EngineOptions& engine, const healing::StepStats& steps,
                            const Outcome& outcome, const std::vector<std::string>& outputs) {
  nlohmann::json j = {{"schema_version", 1},
                      {"run", std::move(run)},
                      {"outputs", outputs},
                      {"scenario", std::move(scenario)},
                      {"sessions", sessions_json(rec.sessions)},
                      {"punctures_first_session", rec.first_stats},
                      {"numerics",
                       {{"max_step_s", engine.dt_max},
                        {"steps_accepted", steps.accepted},
                        {"steps_rejected", steps.rejected},
                        {"dt_smallest_s", steps.dt_smallest},
                        {"dt_largest_s", steps.dt_largest}}},
                      {"outcome", to_json(outcome)}};
  if (outcome.bands) j["bands"] = to_json(*outcome.bands);
  return j;
}

std::string summary_text(const nlohmann::json& summary, const std::filesystem::path& out) {
  const nlohmann::json& outcome = summary["outcome"];
  std::string scar_line;
  for (const auto& sc : outcome["scars"]) {
    const std::string name =
        sc.contains("id") ? sc["id"].get<std::string>() : sc["type"].get<std::string>();
    scar_line +=
        fmt::format("{}{} {:.0f} -> {:.0f} um", scar_line.empty() ? "" : ", ", name,
                    sc["depth_um_before"].get<double>(), sc["depth_um_after"].get<double>());
  }
  const nlohmann::json& sc = summary["scenario"];
  // The files written (summary.json `outputs`; results written before it existed: the four).
  std::string files;
  if (summary.contains("outputs")) {
    for (const auto& e : summary["outputs"]) {
      const std::string name = e.get<std::string>();
      if (name == "figures" || name == "fields.xmf" || name == "scenario.resolved.toml") continue;
      files += (files.empty() ? "" : ", ") + name;
    }
  } else {
    files = "report.html, summary.json, timeseries.csv, fields.h5";
  }
  return fmt::format(
      "{}\n"
      "{}"
      "scar depth: {}\n"
      "collagen: papillary {:+.1f} %, reticular {:+.1f} %; epidermis {:+.1f} %\n"
      "downtime: barrier {:.1f} h, erythema {}; PIH risk {:.1f} %; {:.0f} % of punctures "
      "bled\n"
      "{}"
      "results: {} ({})",
      sc.contains("title") ? sc["title"].get<std::string>() : std::string("mnsim run"),
      goodman_baron_text(outcome),
      scar_line.empty() ? std::string("no scars in the scenario") : scar_line,
      outcome["collagen_change_pct"]["papillary"].get<double>(),
      outcome["collagen_change_pct"]["reticular"].get<double>(),
      outcome["epidermal_thickness_change_pct"].get<double>(),
      outcome["barrier_recovery_hours"].get<double>(),
      protocol::erythema_text(outcome["erythema_days"].get<double>(), true),
      100.0 * outcome["pih_risk"].get<double>(), 100.0 * outcome["bleeding_fraction"].get<double>(),
      bands_text(summary), out.string(), files);
}

}  // namespace mnsim
