#include "serve/consult.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/constants.hpp"
#include "core/error.hpp"
#include "core/scenario.hpp"
#include "core/settings.hpp"
#include "lesions/factory.hpp"
#include "lesions/heightmap.hpp"
#include "lesions/lesion_data.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/cohort.hpp"
#include "report/plan_page.hpp"
#include "report/words.hpp"
#include "skin/atlas.hpp"
#include "skin/profile.hpp"

namespace mnsim::serve {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr int kMaxDepth = 8;

// Where an uploaded height map's messages point (its reader's file:line:col), and their key.
constexpr const char* kUploadName = "uploaded height map";
constexpr const char* kUploadKey = "heightmap";

[[noreturn]] void refuse(const std::string& key, const std::string& what,
                         const std::string& expected = {}) {
  throw InputError({"request", 0, 0}, key, what, expected);
}

std::string child_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

/// A JSON value as a TOML node (what the schema then checks); null and deep nesting refused.
std::unique_ptr<toml::node> to_toml(const json& v, const std::string& path, int depth);

std::unique_ptr<toml::table> to_toml_table(const json& v, const std::string& path, int depth) {
  auto t = std::make_unique<toml::table>();
  for (const auto& [k, item] : v.items()) {
    const std::string p = child_path(path, k);
    auto node = to_toml(item, p, depth + 1);
    t->insert(k, std::move(*node));
  }
  return t;
}

std::unique_ptr<toml::node> to_toml(const json& v, const std::string& path, int depth) {
  if (depth > kMaxDepth) refuse(path, "is nested too deeply", "at most 8 levels");
  switch (v.type()) {
    case json::value_t::object:
      return to_toml_table(v, path, depth);
    case json::value_t::array: {
      auto a = std::make_unique<toml::array>();
      std::size_t i = 0;
      for (const auto& item : v) {
        auto node = to_toml(item, fmt::format("{}[{}]", path, i++), depth + 1);
        a->push_back(std::move(*node));
      }
      return a;
    }
    case json::value_t::string:
      return std::make_unique<toml::value<std::string>>(v.get<std::string>());
    case json::value_t::boolean:
      return std::make_unique<toml::value<bool>>(v.get<bool>());
    case json::value_t::number_integer:
      return std::make_unique<toml::value<int64_t>>(v.get<std::int64_t>());
    case json::value_t::number_unsigned: {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) refuse(path, "is too large", "a number");
      return std::make_unique<toml::value<int64_t>>(static_cast<std::int64_t>(u));
    }
    case json::value_t::number_float:
      return std::make_unique<toml::value<double>>(v.get<double>());
    default:
      refuse(path, "has no value (null)", "a value, or leave the field out for its default");
  }
}

std::string length_mm(double m) {
  return fmt::format("{:.2f} mm", m / kMm);
}

std::string course_words(const protocol::PlanEntry& e) {
  const auto& r = e.protocol;
  return r.sessions > 1
             ? fmt::format("{} sessions {:g} weeks apart", r.sessions, r.interval / kWeek)
             : std::string("a single session");
}

/// A band's quantile, or null when the band was not computed (0 draws).
ordered_json band_value(const protocol::Band& b, double v) {
  return b.computed() ? ordered_json(v) : ordered_json();
}

/// A band in words: "31% to 48%", or "not computed".
std::string range_words(const protocol::Band& b) {
  return b.computed() ? fmt::format("{:.0f}% to {:.0f}%", b.p10, b.p90) : "not computed";
}

ordered_json entry_json(const protocol::PlanEntry& e) {
  const auto& o = e.nominal;
  return {{"device", protocol::device_words(e)},
          {"kind", e.kind},
          {"model", e.model},
          {"setting", e.setting_key},
          {"setting_mm", e.setting / kMm},
          {"passes", e.passes},
          {"sessions", e.protocol.sessions},
          {"interval_weeks",
           e.protocol.sessions > 1 ? ordered_json(e.protocol.interval / kWeek) : ordered_json()},
          {"course", course_words(e)},
          {"depth_reached_mm", o.deepest / kMm},
          {"punctures_per_cm2", o.density * 1e-4},
          {"scar_depth_reduction_pct", o.depth_reduction_pct},
          {"band_p10", band_value(e.variability_band, e.variability_band.p10)},
          {"band_p90", band_value(e.variability_band, e.variability_band.p90)},
          {"parameter_band_p10", band_value(e.parameter_band, e.parameter_band.p10)},
          {"parameter_band_p90", band_value(e.parameter_band, e.parameter_band.p90)},
          {"gb_qualitative_before", o.gb_qual_before},
          {"gb_qualitative_after", o.gb_qual_after},
          {"grade_before", report::grade_words(o.gb_qual_before)},
          {"grade_after", report::grade_words(o.gb_qual_after)},
          {"papillary_collagen_change_pct", 100.0 * o.papillary_collagen_change},
          {"pih_risk_pct", 100.0 * o.pih_risk},
          {"erythema", protocol::erythema_text(o.erythema_days, true)},
          {"erythema_days", o.erythema_days},
          {"barrier_hours", o.barrier_hours},
          {"home_use_length", e.home_use},
          {"feasible", e.feasible},
          {"excluded", e.excluded.empty() ? ordered_json() : ordered_json(e.excluded)}};
}

/// The predicted course of the protocol: the nominal outcome at several times after the last
/// session (the reduced model's outcome times; one simulation).
ordered_json course_json(const protocol::ReducedModel& m, const protocol::PlanPatient& p,
                         const protocol::PlanEntry& e, int threads) {
  protocol::ReducedProtocol pr = e.protocol;
  pr.also_at.clear();
  for (double w : {2.0, 4.0, 8.0, 12.0, 26.0, 52.0}) {
    if (std::abs(w * kWeek - pr.follow_up) > kDay) pr.also_at.push_back(w * kWeek);
  }
  const protocol::PatientOutcome o = m.simulate(p.spec, pr);
  // Both predictive bands of the depth reduction at every time of the course (the planner's
  // settings: posterior_draws and replicates; protocol/bands.hpp).
  std::vector<std::string> names;
  for (std::size_t j = 0; j < o.at.size(); ++j) names.push_back(fmt::format("t{}", j));
  const protocol::BandDesign design(m, protocol::default_posterior_sample(),
                                    protocol::band_settings(p));
  const protocol::PredictiveBands bands = protocol::predictive_bands(
      design, names,
      [&](const protocol::ReducedModel& model, const protocol::RateFactors& rf) {
        const protocol::PatientOutcome d = model.simulate(p.spec, pr, rf);
        std::vector<double> y;
        for (const auto& t : d.at) y.push_back(t.depth_reduction_pct);
        return y;
      },
      threads);
  auto band = [](const protocol::Band& b) {
    return b.computed() ? ordered_json{{"p10", b.p10}, {"p90", b.p90}} : ordered_json();
  };
  const double last = (std::max(1, pr.sessions) - 1) * pr.interval;
  ordered_json pts = ordered_json::array();
  for (std::size_t j = 0; j < o.at.size(); ++j) {
    const auto& t = o.at[j];
    pts.push_back({{"weeks_after_last_session", t.follow_up / kWeek},
                   {"weeks_after_first_session", (last + t.follow_up) / kWeek},
                   {"scar_depth_reduction_pct", t.depth_reduction_pct},
                   {"parameter_band", band(bands.parameter[j])},
                   {"variability_band", band(bands.variability[j])},
                   {"gb_qualitative_after", t.gb_qual_after},
                   {"dermal_collagen_change_pct", 100.0 * t.dermal_collagen_change},
                   {"headline", std::abs(t.follow_up - pr.follow_up) < 1.0}});
  }
  return pts;
}

ordered_json scars_json(const Consultation& c, const protocol::PlanEntry& e) {
  ordered_json a = ordered_json::array();
  const auto& scars = c.patient.spec.scars;
  for (std::size_t i = 0; i < scars.size() && i < e.nominal.scars.size(); ++i) {
    std::string kind = scars[i].kind;
    std::replace(kind.begin(), kind.end(), '_', ' ');
    ordered_json s = {{"kind", kind},
                      {"width_mm", scars[i].width / kMm},
                      {"tethered", scars[i].tethered},
                      {"depth_before_um", e.nominal.scars[i].depth_before / kUm},
                      {"depth_after_um", e.nominal.scars[i].depth_after / kUm}};
    if (i == 0 && !c.surface_profile.empty()) {
      // The uploaded map (the first scar): its measured cross-section.
      ordered_json pr = ordered_json::array();
      for (double d : c.surface_profile) pr.push_back(d / kUm);
      s["profile_before_um"] = pr;
    }
    a.push_back(s);
  }
  return a;
}

ordered_json calendar_json(const protocol::PlanEntry& e, const std::string& start) {
  ordered_json a = ordered_json::array();
  for (const auto& v : protocol::plan_calendar(e.protocol, start)) {
    a.push_back({{"visit", v.session > 0 ? fmt::format("Session {}", v.session)
                                         : std::string("Outcome assessment")},
                 {"day", v.day},
                 {"week", report::week_text(v.day)},
                 {"date", v.date.empty() ? ordered_json() : ordered_json(v.date)}});
  }
  return a;
}

/// Safety flags of a protocol: level "stop" (not to be done), "warn", or "ok".
ordered_json safety_json(const protocol::PlanEntry& e, double dermis_bottom, double pih_cap,
                         double ery_cap) {
  ordered_json a = ordered_json::array();
  auto flag = [&](const char* level, const std::string& text) {
    a.push_back({{"level", level}, {"text", text}});
  };
  const auto& o = e.nominal;
  if (e.excluded == "does not puncture") {
    flag("stop", "The needles do not puncture this skin: no treatment effect.");
  } else if (e.excluded == "past the dermis") {
    flag("stop", fmt::format("The needles reach {} deep, past the dermis (which ends at {} at this "
                             "site) into the fat: not advised.",
                             length_mm(o.deepest), length_mm(dermis_bottom)));
  } else {
    flag("ok", fmt::format("The needles reach {} deep; the dermis ends at {} at this site, so "
                           "they stay within the skin.",
                           length_mm(o.deepest), length_mm(dermis_bottom)));
  }
  if (o.bled) flag("ok", "Expect pinpoint bleeding: the needles reach the small blood vessels.");
  flag(o.pih_risk > pih_cap ? "warn" : "ok",
       fmt::format("Risk of dark marks after treatment (post-inflammatory hyperpigmentation): "
                   "{:.1f}% (limit for this skin type {:.1f}%).",
                   100.0 * o.pih_risk, 100.0 * pih_cap));
  flag(o.erythema_days * kDay > ery_cap ? "warn" : "ok",
       fmt::format("Visible redness after each session: {} on average (limit {}).",
                   protocol::erythema_text(o.erythema_days, true),
                   protocol::erythema_text(ery_cap / kDay, true)));
  if (e.home_use) flag("ok", "Needles short enough for home-use rollers.");
  return a;
}

std::string summary_text(const protocol::PlanPatient& p, const protocol::PlanEntry& e,
                         const std::string& mode) {
  const auto& o = e.nominal;
  std::string s = fmt::format(
      "{} {}, {} passes per session, {}: the scars are predicted to be on average {:.0f}% "
      "shallower {:g} weeks after the last session (8 in 10 patients like this one: {}; if the "
      "model's fitted values are off, within its uncertainty: {}). The worst scar's grade goes "
      "from {} to {}. Expect redness for {} after each session; the risk of dark marks is "
      "{:.1f}%.",
      mode == "plan" ? "Best predicted protocol:" : "Your protocol:", protocol::device_words(e),
      e.passes, course_words(e), o.depth_reduction_pct, p.follow_up / kWeek,
      range_words(e.variability_band), range_words(e.parameter_band),
      report::grade_words(o.gb_qual_before), report::grade_words(o.gb_qual_after),
      protocol::erythema_text(o.erythema_days, true), 100.0 * o.pih_risk);
  if (!e.feasible) s += fmt::format(" Not advised: {}.", e.excluded);
  return s;
}

constexpr const char* kDisclaimer =
    "A prediction of a research model (mnsim's reduced model), not a diagnosis or a medical "
    "device. It has not been validated for individual treatment decisions: discuss any treatment "
    "with a qualified clinician.";

constexpr const char* kBands =
    "Two bands, kept apart, for each ranked protocol at the outcome time and for the shown "
    "protocol over its whole course (course[].variability_band, course[].parameter_band): the "
    "patient-variability band (band_p10, band_p90) is the spread from patient-to-patient "
    "variability of the healing rates (10th to "
    "90th percentile over {} virtual patients like this one); the parameter-uncertainty band "
    "(parameter_band_p10, parameter_band_p90) is the spread from the model's own calibrated "
    "parameters (10th to 90th percentile over {} draws from the posterior of mnsim calibrate, "
    "data/posterior_sample.toml), for this patient at typical healing rates. Values the model "
    "assumes without a study to fit them to are not varied by either band.";

/// An uploaded height map, read by the scenario's readers (PNG or CSV, as the file name says or
/// else by the PNG signature), at most `max_pixels`. `png` says which it was.
lesions::HeightMap read_upload(const HeightMapUpload& u, std::size_t max_pixels, bool& png) {
  std::string ext = std::filesystem::path(u.filename).extension().string();
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  static constexpr char kSignature[] = "\x89PNG\r\n\x1a\n";
  png = ext == ".png" ||
        (ext != ".csv" && ext != ".txt" && u.bytes.compare(0, 8, kSignature, 8) == 0);
  if (u.bytes.empty()) {
    throw InputError({kUploadName, 1, 1}, kUploadKey, "the file is empty",
                     "a 16-bit grayscale PNG or CSV height map");
  }
  return png ? lesions::parse_png_height_map(u.bytes, kUploadName, kUploadKey, max_pixels)
             : lesions::parse_csv_height_map(u.bytes, kUploadName, kUploadKey, max_pixels);
}

}  // namespace

const schema::Key& consult_schema() {
  static const schema::Key root = [] {
    using namespace schema;
    Key root = protocol::plan_schema();
    root.doc = "a consultation request";
    root.children.push_back(enumeration("mode", {"plan", "protocol"}, "plan",
                                        "plan: search every catalog device; protocol: assess the "
                                        "course in [protocol]"));
    root.children.push_back(date("start_date", "Date of the first session: dates the calendar."));
    root.children.push_back(protocol::reduced_protocol_schema());
    // An uploaded height map's scale: a scenario's [surface] keys, but the file (the upload).
    Key surface = lesions::surface_schema();
    std::erase_if(surface.children, [](const Key& k) { return k.name == "file"; });
    surface.doc =
        "the uploaded height map's pixel size and height scale (as a scenario's [surface])";
    root.children.push_back(surface);
    return root;
  }();
  return root;
}

Consultation read_consultation(const std::string& body, const ConsultLimits& limits,
                               const HeightMapUpload* upload) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    refuse("", fmt::format("not valid JSON ({})", e.what()), "a JSON object of the form's fields");
  }
  if (!j.is_object()) refuse("", "is not a JSON object", "a JSON object of the form's fields");
  std::ostringstream text;
  text << *to_toml_table(j, "", 0);
  Table root;
  try {
    root = parse_scenario_text(text.str(), "request", consult_schema(), "a consultation request");
  } catch (const InputError& e) {
    // The TOML text is ours, not the client's: name the field, not a line of it.
    refuse(e.key(), e.problem(), e.expected());
  }
  // An uploaded height map: the readers' own messages, at their line and column.
  lesions::HeightMap map;
  bool png = false;
  if (upload != nullptr) {
    if (!root.has_table("surface")) {
      refuse("surface.pixel_size", "is needed with an uploaded height map",
             "the size of one pixel on the skin and the height of one unit of the map");
    }
    map = read_upload(*upload, limits.max_map_pixels, png);
  } else if (root.has_table("surface")) {
    refuse("surface", "is only read with an uploaded height map", "a height map, or no surface");
  }
  Consultation c;
  try {
    protocol::MoreScars more;
    if (upload != nullptr) {
      const Table& st = root.table("surface");
      c.heightmap = upload->bytes;
      c.surface = {png ? "consultation_heightmap.png" : "consultation_heightmap.csv",
                   st.quantity("pixel_size"), st.quantity("height_scale"), map.cols, map.rows};
      // The measured surface a scenario's [surface] makes of the map, for this patient's skin.
      more = [&](const protocol::PatientSpec& pt) {
        const double skin_depth = skin::default_atlas()
                                      .make_profile(pt.site, pt.age_years, pt.sex, pt.fitzpatrick)
                                      .top_of(skin::Layer::Hypodermis);
        const auto& data = lesions::default_lesion_data();
        const auto m =
            lesions::measured_surface(map, c.surface.pixel_size, c.surface.height_scale, data,
                                      skin_depth, Settings::from_table(st), kUploadName);
        const double texture = data.get("measured").deficit_threshold.si;
        if (m->max_depth() <= texture) {
          st.fail("height_scale",
                  fmt::format("the height map's relief is {:.3g} mm deep, no deeper than the "
                              "{:.3g} mm taken as skin texture",
                              m->max_depth() / kMm, texture / kMm),
                  "the map of a depressed scar (its highest point the surrounding skin) and "
                  "the height of one unit of it");
        }
        // For the illustration: the row through the deepest pixel, at most 64 points across.
        const auto deepest = std::min_element(map.values.begin(), map.values.end());
        const int row = static_cast<int>((deepest - map.values.begin()) / map.cols);
        const int n = std::min(map.cols, 64);
        for (int i = 0; i < n; ++i) {
          const double x = (i + 0.5) / n * map.cols * c.surface.pixel_size;
          c.surface_profile.push_back(m->depression(x, (row + 0.5) * c.surface.pixel_size));
        }
        return std::vector<outcomes::ScarGeometry>{outcomes::scar_geometry(*m)};
      };
    }
    c.patient = protocol::read_plan_patient(root, more);
    c.mode = root.str("mode");
    if (root.has("start_date")) c.start_date = root.str("start_date");
    const Table& pr = root.table("protocol");
    if (c.mode == "plan" && j.contains("protocol")) {
      refuse("protocol", "is only read when mode is \"protocol\"",
             "mode = \"protocol\", or no protocol with \"plan\"");
    }
    if (c.mode == "protocol") {
      c.protocol = protocol::read_reduced_protocol(pr);
      if (!pr.tables("session_counts").empty()) {
        pr.fail("session_counts", "is a cohort's key", "one course for one patient");
      }
      // The planner's outcome time is the consultation's.
      c.protocol.follow_up = c.patient.follow_up;
    }
  } catch (const InputError& e) {
    refuse(e.key(), e.problem(), e.expected());
  }
  const auto& p = c.patient;
  auto bound = [](const char* key, int v, int max) {
    if (v > max) {
      refuse(key, fmt::format("{} is more than this server runs", v),
             fmt::format("at most {}", max));
    }
  };
  bound("search.replicates", p.replicates, limits.max_replicates);
  bound("search.posterior_draws", p.posterior_draws, limits.max_replicates);
  bound("search.top", p.top, limits.max_top);
  bound("search.expand", p.expand, limits.max_expand);
  return c;
}

ConsultResult run_consultation(const protocol::ReducedModel& m, const Consultation& c, int threads,
                               Progress* progress, const StopToken* stop) {
  const protocol::PlanPatient& p = c.patient;
  protocol::Plan plan;
  const skin::SkinProfile prof = protocol::patient_profile(*m.atlas, p.spec);
  if (c.mode == "plan") {
    plan = protocol::make_plan(m, p, threads, progress, stop);
  } else {
    protocol::PlanEntry e = protocol::assess_protocol(m, p, c.protocol, plan.pih_cap,
                                                      plan.erythema_cap, threads, progress, stop);
    plan.dermis_bottom = prof.top_of(skin::Layer::Hypodermis);
    plan.searched = 1;
    plan.device_settings = 1;
    if (e.excluded == "past the dermis") ++plan.excluded_depth;
    if (e.excluded == "PIH risk") ++plan.excluded_pih;
    if (e.excluded == "erythema") ++plan.excluded_erythema;
    if (e.excluded == "does not puncture") ++plan.excluded_no_puncture;
    plan.evaluated.push_back(e);
    if (e.feasible) plan.ranked.push_back(e);
  }
  // The protocol shown: the best ranked one, or the given one even when it is not advised.
  const protocol::PlanEntry* shown = !plan.ranked.empty()   ? &plan.ranked.front()
                                     : c.mode == "protocol" ? &plan.evaluated.front()
                                                            : nullptr;
  ordered_json j;
  j["mode"] = c.mode;
  j["title"] = p.title;
  j["patient"] = {{"site", p.spec.site},
                  {"age_years", p.spec.age_years},
                  {"sex", skin::sex_name(p.spec.sex)},
                  {"fitzpatrick", p.spec.fitzpatrick},
                  {"skin_type", report::fitzpatrick_words(p.spec.fitzpatrick)},
                  {"scars", p.spec.scars.size()},
                  {"dermis_bottom_mm", plan.dermis_bottom / kMm}};
  j["follow_up_weeks"] = p.follow_up / kWeek;
  j["search"] = {{"searched", plan.searched},
                 {"device_settings", plan.device_settings},
                 {"expand", p.expand},
                 {"excluded_past_dermis", plan.excluded_depth},
                 {"excluded_no_puncture", plan.excluded_no_puncture},
                 {"excluded_pih", plan.excluded_pih},
                 {"excluded_erythema", plan.excluded_erythema},
                 {"pih_cap_pct", 100.0 * plan.pih_cap},
                 {"erythema_cap", protocol::erythema_text(plan.erythema_cap / kDay, true)}};
  j["bands"] = {{"available", fmt::format(kBands, p.replicates, p.posterior_draws)},
                {"replicates", p.replicates},
                {"posterior_draws", p.posterior_draws},
                {"posterior", p.posterior_draws > 0}};
  j["disclaimer"] = kDisclaimer;
  ordered_json ranked = ordered_json::array();
  for (const auto& e : plan.ranked) ranked.push_back(entry_json(e));
  j["ranked"] = ranked;
  ConsultResult r;
  if (shown != nullptr) {
    j["shown"] = entry_json(*shown);
    j["summary"] = summary_text(p, *shown, c.mode);
    j["course"] = course_json(m, p, *shown, threads);
    j["scars"] = scars_json(c, *shown);
    j["calendar"] = calendar_json(*shown, c.start_date);
    j["safety"] = safety_json(*shown, plan.dermis_bottom, plan.pih_cap, plan.erythema_cap);
  } else {
    j["shown"] = nullptr;
    j["summary"] =
        "No protocol satisfies the constraints for this patient: every protocol "
        "searched was left out (see the counts of what was left out and why).";
  }
  if (!plan.ranked.empty()) {
    r.scenario = protocol::plan_scenario(p, plan, 1, c.start_date, "mnsim serve",
                                         c.heightmap.empty() ? nullptr : &c.surface);
  } else {
    r.scenario_note = c.mode == "plan" ? "no protocol satisfies the constraints"
                                       : "the protocol is not advised: " + shown->excluded;
  }
  j["scenario_available"] = !r.scenario.empty();
  r.heightmap = !r.scenario.empty() && !c.heightmap.empty();
  j["heightmap_available"] = r.heightmap;
  r.json = j.dump();
  r.html = report::plan_html(p, plan, c.start_date);
  return r;
}

}  // namespace mnsim::serve
