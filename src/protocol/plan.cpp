#include "protocol/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/constants.hpp"
#include "core/error.hpp"
#include "core/ranks.hpp"
#include "core/stages.hpp"
#include "core/stats.hpp"
#include "devices/catalog.hpp"
#include "devices/registry.hpp"
#include "io/checkpoint.hpp"
#include "io/toml_file.hpp"
#include "lesions/lesion.hpp"
#include "lesions/lesion_data.hpp"
#include "lesions/registry.hpp"
#include "outcomes/face_inventory.hpp"
#include "protocol/course.hpp"
#include "protocol/mirror.hpp"
#include "protocol/validate.hpp"

namespace mnsim::protocol {

namespace {

/// Counts finished simulations of one stage for a Progress, from any OpenMP thread.
class StageCounter {
 public:
  StageCounter(Progress& progress, std::string_view stage, std::size_t total)
      : progress_(progress), total_(total) {
    progress_.stage(stage);
    progress_.advance(0.0, static_cast<double>(total_));
  }
  void tick() {
    ++done_;
    // One thread at a time; the count read inside only grows, so the reports never go back.
#pragma omp critical(mnsim_plan_progress)
    progress_.advance(static_cast<double>(done_.load()), static_cast<double>(total_));
  }

 private:
  Progress& progress_;
  std::size_t total_;
  std::atomic<std::size_t> done_{0};
};

}  // namespace

std::vector<schema::Key> scar_keys() {
  using namespace schema;
  std::vector<Key> counts;
  for (const auto& c : lesions::inventory_classes()) {
    counts.push_back(
        integer(c, "0", fmt::format("number of {} scars, spread over the class's depth range", c),
                0, 1000));
  }
  return {table_array("scars", "Scars measured on the patient.",
                      {enumeration("kind", lesions::plan_scar_kinds(), "", "scar kind").must(),
                       mirror_key("lesions.depth@icepick", "depth", "", "depth").must(),
                       mirror_key("lesions.width@icepick", "width", "", "width").must(),
                       mirror_key("lesions.tether@rolling", "tether", "true",
                                  "rolling: tethered by a fibrous band (as in a scenario)")},
                      1000),
          table("inventory",
                "Scars by count: mid-range widths of data/lesions.toml, the n scars of a class "
                "at the depth quantiles (i + 1/2)/n of its range.",
                counts)};
}

std::vector<outcomes::ScarGeometry> read_scars(const Table& root, const PatientSpec& pt,
                                               std::vector<outcomes::ScarGeometry> first) {
  // As for a scenario's lesions: a scar deeper than the patient's skin at the site is refused.
  const double skin_depth = skin::default_atlas()
                                .make_profile(pt.site, pt.age_years, pt.sex, pt.fitzpatrick)
                                .top_of(skin::Layer::Hypodermis);
  std::vector<outcomes::ScarGeometry> out = std::move(first);
  for (const auto& s : root.tables("scars")) {
    const lesions::LesionKind& kind = lesions::lesion_kind(s.str("kind"));
    lesions::LesionShape shape;  // a scar measured on the patient: only width and depth known
    shape.width = s.quantity("width");
    shape.depth = s.quantity("depth");
    shape.tether = kind.can_tether && s.flag("tether");
    const double d = shape.depth;
    if (d >= skin_depth) {
      s.fail("depth", fmt::format("{:g} mm is deeper than the skin", d / kMm),
             fmt::format("less than the {:.3g} mm of epidermis and dermis at this site",
                         skin_depth / kMm));
    }
    // The dermal changes of the scar's depth class (outcomes::depth_class, as the face
    // inventory picks it: boxcar shallow or deep), else the kind's first data table; the band of
    // the kind's data (tether_radius) when tethered, none otherwise.
    const std::string cls = outcomes::depth_class(kind.name, d);
    lesions::Effects e =
        lesions::default_lesion_data().get(cls.empty() ? kind.data_keys.front() : cls).effects();
    if (!shape.tether) e.tether_radius = 0.0;
    out.push_back(outcomes::scar_geometry(*kind.shape(0, 0, shape, e)));
  }
  // Counted scars are spread over their class's depth range (lesions::spread_lesion), no deeper
  // than a cohort's drawn scars may be (90% of the skin, protocol/cohort.cpp).
  const Table& inv = root.table("inventory");
  lesions::DrawLimits caps;
  caps.max_depth = 0.9 * skin_depth;
  for (const auto& c : lesions::inventory_classes()) {
    const long long n = inv.integer(c);
    for (long long i = 0; i < n; ++i) {
      out.push_back(outcomes::scar_geometry(
          *lesions::spread_lesion(c, i, n, lesions::default_lesion_data(), caps)));
    }
  }
  if (out.empty()) {
    root.fail("scars", "the patient has no scars", "[[scars]] entries or [inventory] counts");
  }
  return out;
}

schema::Key plan_patient_table() {
  using namespace schema;
  // Keys that mirror scenario keys take their range, unit and choices from them.
  return table(
      "patient", "The patient.",
      {mirror_key("patient.site", "site", "medial_cheek", "site"),
       mirror_key("patient.age", "age", "30 years", "age"),
       mirror_key("patient.sex", "sex", "female", "sex"),
       mirror_key("patient.fitzpatrick", "fitzpatrick", "3", "Fitzpatrick type I-VI as 1-6"),
       mirror_key("patient.glogau", "glogau", "0",
                  "photoageing baseline: Glogau type I-IV as 1-4 (0: none)")});
}

PatientSpec read_patient_spec(const Table& root, const MoreScars& more) {
  const Table& pt = root.table("patient");
  PatientSpec p;
  p.site = pt.str("site");
  p.age_years = pt.quantity("age") / kYear;
  p.sex = pt.str("sex") == "male" ? skin::Sex::Male : skin::Sex::Female;
  p.fitzpatrick = static_cast<int>(pt.integer("fitzpatrick"));
  p.glogau = static_cast<int>(pt.integer("glogau"));
  p.scars = read_scars(root, p, more ? more(p) : std::vector<outcomes::ScarGeometry>{});
  return p;
}

const schema::Key& plan_schema() {
  static const schema::Key root = [] {
    using namespace schema;
    Key root = table("", "a planner patient", {}, true);
    root.children = {
        string("title", "", "Title."),
        mirror_key("seed", "seed", "1", "Seed of the draws of both predictive bands."),
        plan_patient_table(),
        scar_keys()[0],
        scar_keys()[1],
        table("constraints", "Safety caps (defaults: data/outcomes.toml [planner]).",
              {number("pih_cap", "-1", "largest PIH risk (fraction); -1 = default by type", -1.0,
                      1.0),
               quantity("erythema_cap", Dim::Time, "days", "-1 days",
                        "longest mean erythema per session; negative = default", -366 * kDay,
                        366 * kDay)}),
        table("search", "What is searched.",
              {mirror_key("course.follow_up", "follow_up", "3 months",
                          "outcome time after the last session"),
               [] {
                 const auto ids = devices::DeviceCatalog::defaults().ids();
                 std::string all;
                 for (const auto& id : ids) all += (all.empty() ? "" : ", ") + ("\"" + id + "\"");
                 return enum_list("devices", ids, "[" + all + "]",
                                  "catalog devices searched (default: every catalog device), "
                                  "each over its kind's settings: a roller's lengths, a pen's "
                                  "depth steps");
               }(),
               integer("expand", "10",
                       "device settings (best at the reference course) searched over every "
                       "number of sessions and interval",
                       1, 1000),
               integer("replicates", "20",
                       "virtual patients (healing-rate draws) for the patient-variability band "
                       "of each ranked protocol; 0: no band",
                       0, kMaxBandDraws),
               integer("posterior_draws", "20",
                       "posterior draws of the calibrated parameters "
                       "(data/posterior_sample.toml) for the parameter-uncertainty band of each "
                       "ranked protocol; 0: no band",
                       0, kMaxBandDraws),
               integer("top", "10", "protocols printed", 1, 1000),
               mirror_key("course.sessions", "sessions_min", "1", "fewest sessions"),
               mirror_key("course.sessions", "sessions_max", "6", "most sessions"),
               quantity("time_step", Dim::Time, "h", "6 h", "largest reaction step", 60.0,
                        48 * kHour)}),
        // A topical agent given with every candidate (the scenario's [[application]] keys;
        // docs/substances.md, "In the reduced model").
        healing::application_schema(),
    };
    return root;
  }();
  return root;
}

PlanPatient load_plan_patient(const std::string& path, const std::vector<Override>& overrides) {
  return read_plan_patient(
      io::load_toml_file(path, plan_schema(), "a TOML planner patient file", overrides));
}

PlanPatient read_plan_patient(const Table& root, const MoreScars& more) {
  PlanPatient p;
  if (root.has("title")) p.title = root.str("title");
  p.seed = static_cast<std::uint64_t>(root.integer("seed"));
  p.spec = read_patient_spec(root, more);
  const Table& c = root.table("constraints");
  p.pih_cap = c.number("pih_cap");
  p.erythema_cap = c.quantity("erythema_cap");
  const Table& s = root.table("search");
  p.follow_up = s.quantity("follow_up");
  p.replicates = static_cast<int>(s.integer("replicates"));
  p.posterior_draws = static_cast<int>(s.integer("posterior_draws"));
  p.top = static_cast<int>(s.integer("top"));
  p.sessions_min = static_cast<int>(s.integer("sessions_min"));
  p.sessions_max = static_cast<int>(s.integer("sessions_max"));
  if (p.sessions_max < p.sessions_min) s.fail("sessions_max", "is below sessions_min");
  p.time_step = s.quantity("time_step");
  p.devices = s.list("devices");
  p.expand = static_cast<int>(s.integer("expand"));
  p.intervals = {2 * kWeek, 4 * kWeek, 6 * kWeek, 8 * kWeek};
  p.variability = default_variability();
  p.applications = healing::read_applications(root, p.sessions_max);
  return p;
}

BandSettings band_settings(const PlanPatient& p) {
  BandSettings s;
  s.posterior_draws = p.posterior_draws;
  s.variability_draws = p.replicates;
  s.seed = p.seed;
  s.variability = p.variability;
  return s;
}

Plan make_plan(const ReducedModel& m, const PlanPatient& p, int threads, Progress* progress,
               const StopToken* stop, const Ranks* over, StageRunner* stages) {
  const Ranks& ranks = over != nullptr ? *over : Ranks::single();
  // A stage's items as bytes, computed by the stage runner (a state folder) or over the ranks;
  // every rank gets every item's result.
  const bool as_bytes = stages != nullptr || ranks.several();
  auto map_stage = [&](std::size_t n, const std::function<std::string(std::size_t)>& item,
                       const char* stage) {
    return stages != nullptr
               ? stages->run(n, item, threads, progress, stage)
               : map_items(ranks, n, item, Deliver::Everyone, threads, progress, stage);
  };
  NullProgress silent;
  Progress& report = progress != nullptr ? *progress : silent;
  Plan plan;
  const skin::SkinProfile prof = patient_profile(*m.atlas, p.spec);
  plan.dermis_bottom = prof.top_of(skin::Layer::Hypodermis);
  const double pih_cap = p.pih_cap >= 0
                             ? p.pih_cap
                             : m.outcome.pih_cap[static_cast<std::size_t>(p.spec.fitzpatrick - 1)];
  const double ery_cap = p.erythema_cap >= 0 ? p.erythema_cap : m.outcome.erythema_cap;
  plan.pih_cap = pih_cap;
  plan.erythema_cap = ery_cap;
  // Stage 1: every device setting (catalog entry x its kind's search settings x passes) at the
  // reference course; stage 2: the `expand` best feasible ones over every course.
  const int ref_sessions = std::clamp(3, p.sessions_min, p.sessions_max);
  const double ref_interval = 4 * kWeek;
  std::vector<PlanEntry> devs;
  for (const io::SourcedEntry& entry : devices::DeviceCatalog::defaults().entries()) {
    if (!p.devices.empty() &&
        std::find(p.devices.begin(), p.devices.end(), entry.id()) == p.devices.end()) {
      continue;
    }
    const std::string kind = entry.text("kind");
    const devices::DeviceKind* k = devices::find_device_kind(kind);
    if (!k) continue;
    for (const Settings& set : devices::search_settings(entry)) {
      for (int passes : k->search_passes) {
        PlanEntry e;
        e.kind = kind;
        e.model = entry.id();
        SessionDevice d;
        d.device.kind = kind;
        d.device.model = entry.id();
        d.device.settings = set;
        d.technique = devices::Technique::defaults();
        d.technique.passes = passes;
        const auto dev = devices::make_device(d.device, devices::DeviceCatalog::defaults());
        e.setting_key = set.has("depth") ? "depth" : "needle_length";
        e.setting = dev->needle().length;
        e.passes = passes;
        e.protocol.device = d;
        e.protocol.needle_length = e.setting;
        e.protocol.passes = passes;
        e.protocol.device_model = entry.id();
        e.protocol.sessions = ref_sessions;
        e.protocol.interval = ref_interval;
        e.protocol.follow_up = p.follow_up;
        e.protocol.time_step = p.time_step;
        e.protocol.applications = p.applications;
        e.home_use = kind == "roller" && e.setting <= m.outcome.home_use_max + 1e-12;
        devs.push_back(std::move(e));
      }
    }
  }
  plan.device_settings = static_cast<int>(devs.size());
  // Needles never past the dermis (depth reached from the unlesioned surface; the same holds
  // from a scar floor only for shallower needles - stated in docs/cohort.md).
#ifdef _OPENMP
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#else
  (void)threads;
#endif
  // One protocol: excluded past the dermis (or not puncturing) without simulating it, else
  // simulated and checked against the caps.
  auto stopped = [&] { return stop != nullptr && stop->requested() != 0; };
  auto evaluate = [&](PlanEntry& e) {
    if (stopped()) return;  // skipped: make_plan throws at the end of the stage
    const SessionReach reach = session_reach(*e.protocol.device, prof, m.params);
    if (!reach.punctured) {
      e.feasible = false;
      e.excluded = "does not puncture";
      return;
    }
    // What the device delivers, for this and every replicate simulation.
    e.protocol.depth_reached = reach.depth;
    e.protocol.density = reach.density;
    e.protocol.zone_reached = reach.zone;
    if (skin::past_dermis(reach.depth, prof)) {  // the safety rule (skin/profile.hpp)
      e.feasible = false;
      e.excluded = "past the dermis";
      return;
    }
    e.nominal = m.simulate(prof, p.spec.scars, e.protocol);
    if (e.nominal.pih_risk > pih_cap) {
      e.feasible = false;
      e.excluded = "PIH risk";
    } else if (e.nominal.erythema_days * kDay > ery_cap) {
      e.feasible = false;
      e.excluded = "erythema";
    }
  };
  auto run_all = [&](std::vector<PlanEntry>& v, const char* stage) {
    if (as_bytes) {
      // Protocol i on rank i mod N (or in shard i mod N); every rank gets every protocol's
      // result.
      const std::vector<std::string> parts = map_stage(
          v.size(),
          [&](std::size_t i) {
            PlanEntry e = v[i];
            evaluate(e);
            io::ByteWriter w;
            w.u8(e.feasible ? 1 : 0);
            w.str(e.excluded);
            w.f64(e.protocol.depth_reached);
            w.f64(e.protocol.density);
            const devices::ThermalZone z = e.protocol.zone_reached.value_or(devices::ThermalZone{});
            for (double v : {z.radius, z.top, z.bottom, z.denatured}) w.f64(v);
            encode_outcome(w, e.nominal);
            return w.take();
          },
          stage);
      for (std::size_t i = 0; i < v.size(); ++i) {
        io::ByteReader r(parts[i], "(rank results)", "protocol");
        PlanEntry& e = v[i];
        e.feasible = r.u8() != 0;
        e.excluded = r.str(1000);
        e.protocol.depth_reached = r.f64();
        e.protocol.density = r.f64();
        devices::ThermalZone z;
        z.radius = r.f64();
        z.top = r.f64();
        z.bottom = r.f64();
        z.denatured = r.f64();
        e.protocol.zone_reached = z;
        e.nominal = decode_outcome(r);
        r.expect_end();
      }
    } else {
      StageCounter count(report, stage, v.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
      for (std::size_t i = 0; i < v.size(); ++i) {
        evaluate(v[i]);
        count.tick();
      }
    }
    if (stopped()) throw Interrupted(stop->requested(), "the plan was stopped");
  };
  run_all(devs, "device settings evaluated");
  // Stage 2: the best feasible device settings at the reference course, over every course.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < devs.size(); ++i) {
    if (devs[i].feasible) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return devs[a].nominal.depth_reduction_pct > devs[b].nominal.depth_reduction_pct + 1e-9;
  });
  if (order.size() > static_cast<std::size_t>(p.expand)) {
    order.resize(static_cast<std::size_t>(p.expand));
  }
  std::vector<PlanEntry> courses;
  for (std::size_t i : order) {
    for (int n = p.sessions_min; n <= p.sessions_max; ++n) {
      for (double iv : p.intervals) {
        if (n == 1 && iv != p.intervals.front()) continue;                  // interval irrelevant
        if (n == ref_sessions && (n == 1 || iv == ref_interval)) continue;  // stage 1 ran it
        PlanEntry e = devs[i];
        e.stage = 2;
        e.feasible = true;
        e.excluded.clear();
        e.nominal = PatientOutcome{};
        e.protocol.sessions = n;
        e.protocol.interval = n == 1 ? ref_interval : iv;
        courses.push_back(std::move(e));
      }
    }
  }
  run_all(courses, "courses of the leading devices evaluated");
  std::vector<PlanEntry> all = std::move(devs);
  for (auto& e : courses) all.push_back(std::move(e));
  plan.searched = static_cast<int>(all.size());
  plan.evaluated = all;
  std::vector<PlanEntry> ok;
  for (const auto& e : all) {
    if (e.excluded == "past the dermis") ++plan.excluded_depth;
    if (e.excluded == "PIH risk") ++plan.excluded_pih;
    if (e.excluded == "erythema") ++plan.excluded_erythema;
    if (e.excluded == "does not puncture") ++plan.excluded_no_puncture;
    if (e.feasible) ok.push_back(e);
  }
  // Best predicted improvement first; ties: fewer sessions, shorter needles, fewer passes.
  std::stable_sort(ok.begin(), ok.end(), [](const PlanEntry& a, const PlanEntry& b) {
    const double da = a.nominal.depth_reduction_pct, db = b.nominal.depth_reduction_pct;
    if (std::abs(da - db) > 1e-9) return da > db;
    if (a.protocol.sessions != b.protocol.sessions)
      return a.protocol.sessions < b.protocol.sessions;
    if (a.setting != b.setting) return a.setting < b.setting;
    return a.passes < b.passes;
  });
  if (ok.size() > static_cast<std::size_t>(p.top)) ok.resize(static_cast<std::size_t>(p.top));
  // Both predictive bands of the ranked protocols (protocol/bands.hpp): evaluation k of
  // protocol i is simulation i * per + k.
  const BandDesign design(m, default_posterior_sample(), band_settings(p));
  const std::size_t per = design.size();
  std::vector<double> red(ok.size() * per);
  auto replicate = [&](std::size_t k) {
    if (stopped()) return 0.0;  // skipped: make_plan throws after the stage
    const std::size_t i = k / per, r = k % per;
    return design.model(r)
        .simulate(prof, p.spec.scars, ok[i].protocol, design.rates(r))
        .depth_reduction_pct;
  };
  if (as_bytes) {
    const std::vector<std::string> parts = map_stage(
        red.size(),
        [&](std::size_t k) {
          const double x = replicate(k);
          std::string b(sizeof x, '\0');
          std::memcpy(b.data(), &x, sizeof x);
          return b;
        },
        "uncertainty replicates");
    for (std::size_t k = 0; k < red.size(); ++k)
      std::memcpy(&red[k], parts[k].data(), sizeof(double));
  } else {
    StageCounter count(report, "uncertainty replicates", red.size());
#pragma omp parallel for schedule(dynamic, 2) num_threads(nt)
    for (std::size_t k = 0; k < red.size(); ++k) {
      red[k] = replicate(k);
      count.tick();
    }
  }
  if (stopped()) throw Interrupted(stop->requested(), "the plan was stopped");
  for (std::size_t i = 0; i < ok.size(); ++i) {
    const std::vector<double> x(red.begin() + static_cast<long>(i * per),
                                red.begin() + static_cast<long>((i + 1) * per));
    ok[i].parameter_band = design.parameter_band(x);
    ok[i].variability_band = design.variability_band(x);
  }
  plan.ranked = std::move(ok);
  return plan;
}

PlanEntry assess_protocol(const ReducedModel& m, const PlanPatient& p, const ReducedProtocol& pr,
                          double& pih_cap, double& erythema_cap, int threads, Progress* progress,
                          const StopToken* stop) {
  NullProgress silent;
  Progress& report = progress != nullptr ? *progress : silent;
  const skin::SkinProfile prof = patient_profile(*m.atlas, p.spec);
  pih_cap = p.pih_cap >= 0 ? p.pih_cap
                           : m.outcome.pih_cap[static_cast<std::size_t>(p.spec.fitzpatrick - 1)];
  erythema_cap = p.erythema_cap >= 0 ? p.erythema_cap : m.outcome.erythema_cap;
  PlanEntry e;
  e.protocol = pr;
  e.protocol.time_step = p.time_step;
  // The device of the first session names the entry (a course that changes devices is
  // described session by session by ReducedProtocol::describe).
  const SessionDevice d = pr.session_device(0);
  e.kind = d.device.kind;
  e.model = d.device.model.empty() ? pr.device_model : d.device.model;
  e.setting_key = d.device.settings.has("depth") ? "depth" : "needle_length";
  e.setting = devices::make_device(d.device, devices::DeviceCatalog::defaults())->needle().length;
  e.passes = d.technique.passes;
  e.home_use = e.kind == "roller" && e.setting <= m.outcome.home_use_max + 1e-12;
  const SessionReach reach = session_reach(d, prof, m.params);
  e.nominal = m.simulate(prof, p.spec.scars, e.protocol);
  if (!reach.punctured) {
    e.feasible = false;
    e.excluded = "does not puncture";
  } else if (skin::past_dermis(e.nominal.deepest, prof)) {  // the safety rule (skin/profile.hpp)
    e.feasible = false;
    e.excluded = "past the dermis";
  } else if (e.nominal.pih_risk > pih_cap) {
    e.feasible = false;
    e.excluded = "PIH risk";
  } else if (e.nominal.erythema_days * kDay > erythema_cap) {
    e.feasible = false;
    e.excluded = "erythema";
  }
#ifdef _OPENMP
  const int nt = threads > 0 ? threads : omp_get_max_threads();
#else
  (void)threads;
#endif
  const BandDesign design(m, default_posterior_sample(), band_settings(p));
  std::vector<double> red(design.size());
  {
    StageCounter count(report, "uncertainty replicates", red.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (std::size_t r = 0; r < red.size(); ++r) {
      if (stop == nullptr || stop->requested() == 0) {
        red[r] = design.model(r)
                     .simulate(prof, p.spec.scars, e.protocol, design.rates(r))
                     .depth_reduction_pct;
      }
      count.tick();
    }
  }
  if (stop != nullptr && stop->requested() != 0) {
    throw Interrupted(stop->requested(), "the assessment was stopped");
  }
  e.parameter_band = design.parameter_band(red);
  e.variability_band = design.variability_band(red);
  return e;
}

std::string device_words(const PlanEntry& e) {
  return e.setting_key == "depth"
             ? fmt::format("{} {} set to {:.2f} mm deep", e.model, e.kind, e.setting / kMm)
             : fmt::format("{} {} with {:.2f} mm needles", e.model, e.kind, e.setting / kMm);
}

std::vector<PlanVisit> plan_calendar(const ReducedProtocol& protocol,
                                     const std::string& start_date) {
  std::vector<PlanVisit> out;
  auto visit = [&](int session, double t) {
    PlanVisit v;
    v.session = session;
    v.day = std::lround(t / kDay);
    if (!start_date.empty()) v.date = add_days(start_date, v.day);
    out.push_back(v);
  };
  const int n = std::max(1, protocol.sessions);
  for (int i = 0; i < n; ++i) visit(i + 1, i * protocol.interval);
  visit(0, (n - 1) * protocol.interval + protocol.follow_up);
  return out;
}

std::string erythema_text(double days, bool words) {
  if (!(days > 0)) return "none";
  if (days >= 0.995) return fmt::format("{:.1f} {}", days, words ? "days" : "d");
  const double hours = days * 24;
  if (hours < 0.5) return words ? "<1 hour" : "<1 h";
  const long h = std::lround(hours);
  return fmt::format("{} {}", h, words ? (h == 1 ? "hour" : "hours") : "h");
}

namespace {

std::string band_text(const Band& b) {
  if (!b.computed()) return "-";
  return fmt::format("[{:.1f},{:.1f}]", b.p10, b.p90);
}

nlohmann::json band_json(const Band& b) {
  if (!b.computed()) return nullptr;
  return {{"draws", b.draws}, {"p10", b.p10}, {"p50", b.p50}, {"p90", b.p90}};
}

}  // namespace

std::string plan_table(const PlanPatient& p, const Plan& plan, const std::string& start_date) {
  std::string s = fmt::format(
      "patient: {}, {:.0f} years, {}, Fitzpatrick {}; {} scars; dermis bottom {:.2f} mm\n"
      "searched {} protocols ({} device settings at 3 sessions 4 weeks apart, then the {} best "
      "over "
      "every course):\n  {} past the dermis, {} not puncturing, {} over the PIH cap, {} over the "
      "erythema cap\noutcome {:.0f} weeks ({:.1f} months) after the last session; bands of the "
      "depth reduction, 10th-90th percentile:\n  param. = parameter uncertainty ({} posterior "
      "draws of the calibrated parameters, the patient at nominal rates)\n  patients = patient "
      "variability ({} virtual patients with drawn healing rates, the shipped parameters)\n\n",
      p.spec.site, p.spec.age_years, skin::sex_name(p.spec.sex), p.spec.fitzpatrick,
      p.spec.scars.size(), plan.dermis_bottom * 1e3, plan.searched, plan.device_settings, p.expand,
      plan.excluded_depth, plan.excluded_no_puncture, plan.excluded_pih, plan.excluded_erythema,
      p.follow_up / kWeek, p.follow_up / (30.44 * kDay), p.posterior_draws, p.replicates);
  s += fmt::format(
      "{:>4} {:<20} {:>7} {:>6} {:>8} {:>9} {:>8} {:>6} {:>11} {:>11} {:>7} {:>8} "
      "{:>7} {:>9}  {}\n",
      "rank", "device", "setting", "passes", "sessions", "interval", "reached", "red. %", "param.",
      "patients", "G&B q", "collagen", "PIH %", "erythema", "note");
  int rank = 0;
  for (const auto& e : plan.ranked) {
    const auto& o = e.nominal;
    s += fmt::format(
        "{:>4} {:<20} {:>5.2f}{} {:>6} {:>8} {:>9} {:>6.2f}mm {:>6.1f} {:>11} {:>11} "
        "{:>3}->{:<3} "
        "{:>+7.1f}% {:>7.2f} {:>9}  {}\n",
        ++rank, e.model, e.setting * 1e3, e.setting_key == "depth" ? "d " : "mm", e.passes,
        e.protocol.sessions,
        e.protocol.sessions > 1 ? fmt::format("{:.0f} wk", e.protocol.interval / kWeek) : "-",
        o.depth_reached * 1e3, o.depth_reduction_pct, band_text(e.parameter_band),
        band_text(e.variability_band), o.gb_qual_before, o.gb_qual_after,
        100.0 * o.papillary_collagen_change, 100.0 * o.pih_risk, erythema_text(o.erythema_days),
        e.home_use ? "home-use length" : "");
  }
  if (plan.ranked.empty()) s += "no protocol satisfies the constraints\n";
  if (!start_date.empty() && !plan.ranked.empty()) {
    s += fmt::format("\ncalendar (first session {}):\n", start_date);
    rank = 0;
    for (const auto& e : plan.ranked) {
      std::string sessions, outcome;
      for (const auto& v : plan_calendar(e.protocol, start_date)) {
        if (v.session == 0) {
          outcome = v.date;
        } else {
          sessions += (sessions.empty() ? "" : ", ") + v.date;
        }
      }
      s += fmt::format("{:>4} session{} {}; outcome {}\n", ++rank,
                       e.protocol.sessions > 1 ? "s" : "", sessions, outcome);
    }
  }
  s += "\nrank: best predicted improvement first (ties: fewer sessions, shorter needles, fewer "
       "passes)\ndevice: catalog model (`mnsim catalog devices`); setting: needle length (mm), or "
       "a pen's depth\n  setting (d); passes: passes per session; interval: weeks "
       "between sessions\n  (\"-\": a single session); reached: how deep the needles reach in "
       "this patient's skin\nred. %: predicted reduction of the mean scar depth at the outcome, in "
       "% of the depth before\nparam.: [10th, 90th percentile] over draws of the model's "
       "calibrated parameters (what the\n  calibration leaves open), the patient at nominal "
       "rates; \"-\": not computed\npatients: [10th, 90th percentile] over virtual patients "
       "like this one (8 in 10 fall in\n  the band), the shipped parameters; \"-\": not "
       "computed\nG&B q: Goodman & Baron grade of the worst scar, before -> "
       "after: 0 no scar seen, 2 mild (not\n  obvious at 50 cm), 3 moderate (obvious at 50 cm, "
       "flattens when the skin is stretched),\n  4 severe (does not flatten); 1 (macular: colour "
       "only) is not modelled\ncollagen: change of the collagen of the upper (papillary) dermis; "
       "PIH %: risk of post-inflammatory\n  hyperpigmentation (dark marks after treatment); "
       "erythema: visible redness after each session\n  (mean; d days, h hours); note: "
       "home-use length = needles short enough for home rollers\n--json and --csv write every "
       "protocol searched, --html a printable page with a session\ncalendar (dated with "
       "--start-date); --export N prints protocol N as a scenario for `mnsim run`.\n";
  return s;
}

namespace {

nlohmann::json entry_json(const PlanEntry& e) {
  const PatientOutcome& o = e.nominal;
  nlohmann::json j = {
      {"device", {{"kind", e.kind}, {"model", e.model}}},
      {e.setting_key == "depth" ? "depth_setting_mm" : "needle_length_mm", e.setting * 1e3},
      {"passes", e.passes},
      {"stage", e.stage},
      {"sessions", e.protocol.sessions},
      {"interval_weeks",
       e.protocol.sessions > 1 ? nlohmann::json(e.protocol.interval / kWeek) : nullptr},
      {"follow_up_weeks", e.protocol.follow_up / kWeek},
      {"depth_reached_mm", e.protocol.depth_reached * 1e3},
      {"punctures_per_cm2", e.protocol.density * 1e-4},
      {"home_use_length", e.home_use},
      {"feasible", e.feasible},
      {"excluded", e.excluded.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.excluded)}};
  if (e.excluded != "past the dermis") {  // simulated
    j["outcome"] = {{"scar_depth_reduction_pct", o.depth_reduction_pct},
                    {"gb_qualitative_before", o.gb_qual_before},
                    {"gb_qualitative_after", o.gb_qual_after},
                    {"gb_quantitative_before", o.gb_quant_before},
                    {"gb_quantitative_after", o.gb_quant_after},
                    {"papillary_collagen_change_pct", 100.0 * o.papillary_collagen_change},
                    {"reticular_collagen_change_pct", 100.0 * o.reticular_collagen_change},
                    {"pih_risk", o.pih_risk},
                    {"erythema_days", o.erythema_days},
                    {"barrier_hours", o.barrier_hours}};
    if (!o.applications.empty()) {
      nlohmann::json apps = nlohmann::json::array();
      for (std::size_t k = 0; k < o.applications.size(); ++k) {
        const auto& a = o.applications[k];
        const std::string agent =
            k < e.protocol.applications.size() ? e.protocol.applications[k].agent : "";
        apps.push_back({{"agent", agent},
                        {"unit", agent == "prp" ? "ng/cm^2" : "ug/cm^2"},
                        {"applied", a.applied},
                        {"delivered", a.delivered}});
      }
      j["outcome"]["applications"] = apps;
    }
  }
  return j;
}

}  // namespace

std::string plan_json(const PlanPatient& p, const Plan& plan, const std::string& start_date) {
  nlohmann::json ranked = nlohmann::json::array();
  int rank = 0;
  for (const auto& e : plan.ranked) {
    nlohmann::json j = entry_json(e);
    j["rank"] = ++rank;
    j["scar_depth_reduction_pct_bands"] = {{"parameter_uncertainty", band_json(e.parameter_band)},
                                           {"patient_variability", band_json(e.variability_band)}};
    nlohmann::json cal = nlohmann::json::array();
    for (const auto& v : plan_calendar(e.protocol, start_date)) {
      cal.push_back({{"visit", v.session > 0 ? "session" : "outcome assessment"},
                     {"session", v.session > 0 ? nlohmann::json(v.session) : nullptr},
                     {"day", v.day},
                     {"week", static_cast<double>(v.day) / 7.0},
                     {"date", v.date.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.date)}});
    }
    j["calendar"] = cal;
    ranked.push_back(j);
  }
  nlohmann::json all = nlohmann::json::array();
  for (const auto& e : plan.evaluated) all.push_back(entry_json(e));
  const nlohmann::json j = {
      {"patient",
       {{"site", p.spec.site},
        {"age_years", p.spec.age_years},
        {"sex", skin::sex_name(p.spec.sex)},
        {"fitzpatrick", p.spec.fitzpatrick},
        {"scars", p.spec.scars.size()}}},
      {"dermis_bottom_mm", plan.dermis_bottom * 1e3},
      {"start_date", start_date.empty() ? nlohmann::json(nullptr) : nlohmann::json(start_date)},
      {"pih_cap", plan.pih_cap},
      {"erythema_cap_days", plan.erythema_cap / kDay},
      {"replicates", p.replicates},
      {"posterior_draws", p.posterior_draws},
      {"bands",
       {{"parameter_uncertainty", kParameterBandWords},
        {"patient_variability", kVariabilityBandWords}}},
      {"searched", plan.searched},
      {"excluded",
       {{"past the dermis", plan.excluded_depth},
        {"PIH risk", plan.excluded_pih},
        {"erythema", plan.excluded_erythema}}},
      {"ranked", ranked},
      {"evaluated", all}};
  return j.dump(2) + "\n";
}

std::string plan_csv(const Plan& plan) {
  std::string s =
      "rank,kind,model,setting,setting_mm,passes,sessions,interval_weeks,depth_reached_mm,"
      "punctures_per_cm2,home_use_length,stage,feasible,excluded,scar_depth_reduction_pct,"
      "scar_depth_reduction_pct_parameter_p10,scar_depth_reduction_pct_parameter_p90,"
      "scar_depth_reduction_pct_variability_p10,scar_depth_reduction_pct_variability_p90,"
      "gb_qualitative_before,gb_qualitative_after,"
      "gb_quantitative_before,gb_quantitative_after,papillary_collagen_change_pct,pih_risk_pct,"
      "erythema_days,barrier_hours";
  // One column per application given with every candidate: its dose delivered over the course.
  const std::vector<healing::Application> apps = plan.evaluated.empty()
                                                     ? std::vector<healing::Application>{}
                                                     : plan.evaluated.front().protocol.applications;
  for (const auto& a : apps) s += fmt::format(",{}_delivered", a.agent);
  s += "\n";
  for (const auto& e : plan.evaluated) {
    // The ranked entry of the same protocol (its band), if any.
    int rank = 0;
    const PlanEntry* r = nullptr;
    for (std::size_t i = 0; i < plan.ranked.size(); ++i) {
      const ReducedProtocol& a = plan.ranked[i].protocol;
      const PlanEntry& b = plan.ranked[i];
      if (b.model == e.model && b.setting == e.setting && b.passes == e.passes &&
          a.sessions == e.protocol.sessions && a.interval == e.protocol.interval) {
        rank = static_cast<int>(i) + 1;
        r = &plan.ranked[i];
      }
    }
    const PatientOutcome& o = e.nominal;
    const bool simulated = e.excluded != "past the dermis" && e.excluded != "does not puncture";
    s +=
        fmt::format("{},{},{},{},{:g},{},{},{},{:.3f},{:.1f},{},{},{},{},",
                    rank > 0 ? std::to_string(rank) : "", e.kind, e.model, e.setting_key,
                    e.setting * 1e3, e.passes, e.protocol.sessions,
                    e.protocol.sessions > 1 ? fmt::format("{:g}", e.protocol.interval / kWeek) : "",
                    e.protocol.depth_reached * 1e3, e.protocol.density * 1e-4, e.home_use ? 1 : 0,
                    e.stage, e.feasible ? 1 : 0, e.excluded);
    if (simulated) {
      auto q = [&](const Band& b, double v) {
        return r && b.computed() ? fmt::format("{:.3f}", v) : std::string();
      };
      s += fmt::format(
          "{:.3f},{},{},{},{},{},{},{},{},{:.3f},{:.4f},{:.3f},{:.3f}", o.depth_reduction_pct,
          q(r ? r->parameter_band : Band{}, r ? r->parameter_band.p10 : 0),
          q(r ? r->parameter_band : Band{}, r ? r->parameter_band.p90 : 0),
          q(r ? r->variability_band : Band{}, r ? r->variability_band.p10 : 0),
          q(r ? r->variability_band : Band{}, r ? r->variability_band.p90 : 0), o.gb_qual_before,
          o.gb_qual_after, o.gb_quant_before, o.gb_quant_after, 100.0 * o.papillary_collagen_change,
          100.0 * o.pih_risk, o.erythema_days, o.barrier_hours);
      for (std::size_t k = 0; k < apps.size(); ++k) {
        s += fmt::format(",{:.6g}", k < o.applications.size() ? o.applications[k].delivered : 0.0);
      }
      s += "\n";
    } else {
      s += ",,,,,,,,,,,," + std::string(apps.size(), ',') + "\n";
    }
  }
  return s;
}

std::string plan_scenario(const PlanPatient& p, const Plan& plan, int rank,
                          const std::string& start_date, const std::string& exporter,
                          const SurfaceExport* surface) {
  if (rank < 1 || static_cast<std::size_t>(rank) > plan.ranked.size()) {
    throw InputError(
        {"command line", 0, 0}, "--export",
        fmt::format("there is no protocol {} (the plan ranks {})", rank, plan.ranked.size()),
        plan.ranked.empty() ? "a plan with a feasible protocol"
                            : fmt::format("1 to {}", plan.ranked.size()));
  }
  const PlanEntry& e = plan.ranked[static_cast<std::size_t>(rank) - 1];
  // One of each distinct scar (kind, width, depth, tether), on a square patch of cells as wide as
  // the widest scar plus 1 mm.
  // Kinds a planner file can name (width and depth make the lesion); others are left out.
  const std::vector<std::string> kinds = lesions::plan_scar_kinds();
  std::vector<const outcomes::ScarGeometry*> distinct;
  std::vector<std::string> left_out;  // why scars were left out, each reason once
  auto leave_out = [&](const std::string& why) {
    if (std::find(left_out.begin(), left_out.end(), why) == left_out.end()) {
      left_out.push_back(why);
    }
  };
  std::size_t on_patch = 0;  // scars the scenario holds
  for (const auto& g : p.spec.scars) {
    if (surface != nullptr) {
      if (g.kind == "measured") {
        ++on_patch;
      } else {
        leave_out("other scars (the patch is the height map of [surface])");
      }
      continue;
    }
    if (std::find(kinds.begin(), kinds.end(), g.kind) == kinds.end()) {
      leave_out(g.kind + " scars (not placed from a width and depth)");
      continue;
    }
    if (g.depth >= plan.dermis_bottom) {  // a scenario refuses a lesion deeper than the skin
      leave_out(
          fmt::format("{} scars {:g} mm deep (deeper than the {:.3g} mm of skin at this site)",
                      g.kind, g.depth * 1e3, plan.dermis_bottom * 1e3));
      continue;
    }
    bool seen = false;
    for (const auto* d : distinct) {
      seen |= d->kind == g.kind && d->width == g.width && d->depth == g.depth &&
              d->tethered == g.tethered;
    }
    if (!seen) distinct.push_back(&g);
  }
  if (surface == nullptr) on_patch = distinct.size();
  double widest = 0.0;
  for (const auto* d : distinct) widest = std::max(widest, d->width);
  const double cell = std::ceil((widest + 1e-3) / 1e-4) * 1e-4;  // whole 100 um
  const auto per_row = static_cast<std::size_t>(std::ceil(std::sqrt(distinct.size())));
  double width = std::max(1e-2, cell * static_cast<double>(per_row)), length = width;
  double resolution = 1e-4;
  if (surface != nullptr) {
    // The map's extent in whole micrometres (a patch no larger than the map, up to rounding the
    // scenario's reader allows), at most 100 mm.
    const auto whole_um = [](double m) { return std::floor(m / 1e-6 + 1e-6) * 1e-6; };
    width = std::min(1e-1, whole_um(surface->cols * surface->pixel_size));
    length = std::min(1e-1, whole_um(surface->rows * surface->pixel_size));
    // 100 um voxels, finer for a patch under 2 mm (at least 20 across).
    resolution =
        std::min(1e-4, std::max(1e-6, std::floor(std::min(width, length) / 20 / 1e-6) * 1e-6));
  }
  const double mm = 1e3;
  std::string s = fmt::format(
      "# Exported by `{}` (rank {} of {}): {}, {} passes, {} session{}{}.\n"
      "# The patch holds {} ({} of {} scars), not the whole face;\n"
      "# the predicted mean scar depth reduction was {:.1f}% (reduced model; 10-90%: "
      "parameter uncertainty {}, patient variability {}).\n",
      exporter, rank, plan.ranked.size(), device_words(e), e.passes, e.protocol.sessions,
      e.protocol.sessions > 1 ? "s" : "",
      e.protocol.sessions > 1 ? fmt::format(" every {:g} weeks", e.protocol.interval / kWeek) : "",
      surface != nullptr ? "the measured surface of the height map"
                         : "one of each distinct scar of the patient file",
      on_patch, p.spec.scars.size(), e.nominal.depth_reduction_pct, band_text(e.parameter_band),
      band_text(e.variability_band));
  for (const auto& k : left_out) {
    s += fmt::format("# Left out: the patient's {}.\n", k);
  }
  s += fmt::format("title = \"Plan rank {} for a {} patient, Fitzpatrick {}\"\nseed = {}\n\n", rank,
                   p.spec.site, p.spec.fitzpatrick, p.seed);
  s += fmt::format(
      "[patient]\nsite = \"{}\"\nage = \"{:g} years\"\nsex = \"{}\"\nfitzpatrick = {}\n{}\n",
      p.spec.site, p.spec.age_years, skin::sex_name(p.spec.sex), p.spec.fitzpatrick,
      p.spec.glogau > 0 ? fmt::format("glogau = {}\n", p.spec.glogau) : std::string());
  s +=
      fmt::format("[tissue]\nwidth = \"{:g} mm\"\nlength = \"{:g} mm\"\nresolution = \"{:g} um\"\n",
                  width * mm, length * mm, resolution * 1e6);
  if (surface != nullptr) {
    s += fmt::format(
        "\n# The height map ({} x {} pixels) must lie beside this file.\n[surface]\nfile = "
        "\"{}\"\npixel_size = \"{:.12g} um\"\nheight_scale = \"{:.12g} um\"\n",
        surface->cols, surface->rows, surface->file, surface->pixel_size * 1e6,
        surface->height_scale * 1e6);
  }
  for (std::size_t i = 0; i < distinct.size(); ++i) {
    const auto* d = distinct[i];
    const double x = (static_cast<double>(i % per_row) + 0.5) * cell;
    const double y = (static_cast<double>(i / per_row) + 0.5) * cell;
    s += fmt::format(
        "\n[[lesions]]\nkind = \"{}\"\nx = \"{:g} mm\"\ny = \"{:g} mm\"\nwidth = \"{:g} mm\"\n"
        "depth = \"{:g} mm\"\n",
        d->kind, x * mm, y * mm, d->width * mm, d->depth * mm);
    if (lesions::lesion_kind(d->kind).can_tether) {
      s += fmt::format("tether = {}\n", d->tethered ? "true" : "false");
    }
  }
  s += fmt::format("\n[device]\nkind = \"{}\"\nmodel = \"{}\"\n{} = \"{:g} mm\"\n\n", e.kind,
                   e.model, e.setting_key, e.setting * mm);
  s += fmt::format("[technique]\npasses = {}\n\n", e.passes);
  s += fmt::format("[course]\nsessions = {}\n", e.protocol.sessions);
  if (e.protocol.sessions > 1) {
    s += fmt::format("interval = \"{:g} weeks\"\n", e.protocol.interval / kWeek);
  }
  if (!start_date.empty()) s += fmt::format("start_date = {}\n", start_date);
  // The plan's outcome time is after the last session (a scenario counts from the first
  // unless told).
  s += fmt::format("follow_up = \"{:g} weeks\"\nfollow_up_from = \"last\"\n",
                   e.protocol.follow_up / kWeek);
  // The applications given with every candidate, as the scenario's (exact values: {:.17g}).
  for (const healing::Application& a : e.protocol.applications) {
    s += fmt::format("\n[[application]]\nagent = \"{}\"\nvehicle = \"{}\"\n", a.agent, a.vehicle);
    if (a.agent == "tranexamic_acid" || a.agent == "minoxidil") {
      s += fmt::format("concentration = \"{:.17g} mg/mL\"\n", a.concentration);
    }
    s += fmt::format(
        "film = \"{:.17g} um\"\nocclusion = {}\ndelay = \"{:.17g} min\"\n"
        "contact = \"{:.17g} hours\"\nsession = {}\n",
        a.film * 1e6, a.occluded ? "true" : "false", a.delay / 60.0, a.contact / kHour, a.session);
  }
  return s;
}

}  // namespace mnsim::protocol
