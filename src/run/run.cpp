#include "run/run.hpp"

#include <fmt/format.h>
#include <omp.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <ctime>

#include "core/rng.hpp"
#include "core/version.hpp"
#include "devices/device.hpp"
#include "devices/stage.hpp"
#include "healing/engine.hpp"
#include "io/fields_h5.hpp"
#include "io/files.hpp"
#include "io/timeseries.hpp"
#include "outcomes/goodman_baron.hpp"
#include "protocol/course.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

namespace {
constexpr double kDay = 86400.0;
constexpr double kHour = 3600.0;
}  // namespace

std::string utc_now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json run_metadata(std::uint64_t seed, int threads, const std::string& started_utc,
                            double wall_s) {
  return {{"mnsim_version", version()}, {"git_commit", git_commit()},
          {"build_type", build_type()}, {"seed", seed},
          {"threads", threads},         {"started_utc", started_utc},
          {"wall_time_s", wall_s}};
}

std::uint64_t apply_seed_override(Table& scenario, std::optional<std::uint64_t> seed) {
  if (seed) {
    Value v = scenario.value("seed");
    v.num = static_cast<double>(*seed);
    v.text = fmt::format("{}", *seed);
    v.defaulted = false;
    v.loc = SourceLoc{"command line", 0, 0};
    scenario.set("seed", v);
    return *seed;
  }
  return static_cast<std::uint64_t>(scenario.integer("seed"));
}

void validate_semantics(const Table& scenario) {
  (void)protocol::make_course(scenario.table("course"));
  // The patch with its lesions: lesions outside the patch or deeper than the skin, unreadable
  // height maps (InputError at the key).
  (void)skin::make_patch(scenario);
  // The device resolves against the catalog (model, offered lengths, depth range).
  devices::make_device(scenario.table("device"), devices::DeviceCatalog::defaults());
}

/// Seed of one session's device stage: keyed by (scenario seed, session index).
std::uint64_t session_seed(std::uint64_t seed, int session) {
  return mix64(mix64(seed) ^ (0x5e55'0000ULL + static_cast<std::uint64_t>(session)));
}

RunResult run_scenario(Table scenario, const RunOptions& opts) {
  NullProgress quiet;
  Progress& progress = opts.progress ? *opts.progress : quiet;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string started = utc_now_iso();
  if (opts.threads > 0) omp_set_num_threads(opts.threads);
  const int threads = omp_get_max_threads();
  const std::uint64_t seed = apply_seed_override(scenario, opts.seed);

  validate_semantics(scenario);
  const protocol::Course course = protocol::make_course(scenario.table("course"));
  io::prepare_output_dir(opts.out_dir, opts.force);

  progress.stage("tissue");
  const skin::Tissue tissue = skin::build_tissue(scenario);
  const skin::SkinPatch& patch = tissue.patch;
  const healing::ParamSet params = healing::load_default_params();
  healing::Engine engine(tissue, params.p);
  const devices::Rect area = devices::treatment_area(scenario);
  const grid::Grid& g = engine.grid();
  progress.note(fmt::format("grid {} x {} x {} cells ({:.1f} M), {} fields, {:.0f} MiB", g.nx, g.ny,
                            g.nz, static_cast<double>(g.cells()) * 1e-6, engine.fields().size(),
                            static_cast<double>(2 * engine.fields().bytes()) / (1 << 20)));

  const std::string resolved = scenario.to_toml();
  io::FieldsWriter h5(opts.out_dir / "fields.h5", g,
                      {"damage", "inflammatory_signal", "fibroblasts", "collagen3", "collagen1",
                       "elastin", "vascular", "melanin_excess"});
  h5.attribute("mnsim_scenario", resolved);

  io::TimeSeries ts;
  const auto& specs = healing::field_specs(params.p);
  auto sample = [&](double t) {
    const healing::LayerMeans m = engine.layer_means();
    for (int l = 0; l < skin::kLayers; ++l) {
      const std::string layer(skin::layer_name(skin::layer_from_index(l)));
      for (const auto& s : specs) {
        ts.add(t, std::string(s.name), layer,
               m[static_cast<std::size_t>(l)][static_cast<std::size_t>(s.id)]);
      }
    }
  };

  // Sessions: punctures from the device model, deposited into the tissue.
  nlohmann::json session_log = nlohmann::json::array();
  nlohmann::json first_stats;
  double bleeding_sum = 0.0;
  std::size_t puncture_total = 0;
  double last_session = 0.0;
  for (const auto& s : course.sessions) {
    engine.stepper().add_event(s.time, [&, s](double t, grid::FieldSet& fields) {
      sample(t);
      h5.snapshot(t, fmt::format("before session {}", s.index + 1), fields);
      const devices::StageResult st =
          devices::run_device_stage(scenario, patch.profile(), area, session_seed(seed, s.index));
      const healing::InjuryTally tally = engine.apply_session(st.punctures);
      if (s.index == 0) first_stats = st.stats;
      bleeding_sum +=
          st.stats["fraction_bleeding"].get<double>() * static_cast<double>(st.punctures.size());
      puncture_total += st.punctures.size();
      last_session = t;
      session_log.push_back({{"session", s.index + 1},
                             {"day", t / kDay},
                             {"date", s.date},
                             {"punctures", st.punctures.size()},
                             {"density_per_cm2", st.stats["density_per_cm2"]["mean"]},
                             {"depth_um_mean", st.stats["depth_um"]["mean"]},
                             {"fraction_bleeding", st.stats["fraction_bleeding"]},
                             {"lumen_volume_mm3", tally.lumen_volume * 1e9},
                             {"blood_volume_mm3", tally.blood_volume * 1e9}});
      progress.note(fmt::format("session {} of {} (day {:.0f}): {} punctures, {:.0f} um deep",
                                s.index + 1, course.sessions.size(), t / kDay, st.punctures.size(),
                                st.stats["depth_um"]["mean"].get<double>()));
      h5.snapshot(t, fmt::format("after session {}", s.index + 1), fields);
      sample(t);
    });
  }

  progress.stage("healing");
  double next_sample = 0.0;
  engine.stepper().set_observer([&](double t, double dt) {
    progress.advance(t, course.end_time);
    spdlog::debug("t = {:.4g} h, dt = {:.3g} s, steps {} accepted, {} rejected", t / kHour, dt,
                  engine.stepper().stats().accepted, engine.stepper().stats().rejected);
    if (t + 1e-9 < next_sample) return;
    sample(t);
    const double since = t - last_session;
    next_sample = t + (since < kDay ? kHour : (since < 7 * kDay ? 6 * kHour : kDay));
  });
  sample(0.0);
  engine.stepper().advance_to(course.end_time);
  sample(course.end_time);
  h5.snapshot(course.end_time, "end of follow-up", engine.fields());
  progress.advance(course.end_time, course.end_time);

  // Outcomes.
  const healing::LayerMeans end = engine.layer_means();
  const auto& base = engine.baselines();
  auto pct = [](double now, double before) {
    return before > 0 ? 100.0 * (now / before - 1.0) : 0.0;
  };
  const std::size_t pap = static_cast<std::size_t>(skin::layer_index(skin::Layer::PapillaryDermis));
  const std::size_t ret = static_cast<std::size_t>(skin::layer_index(skin::Layer::ReticularDermis));
  const std::size_t ve = static_cast<std::size_t>(skin::layer_index(skin::Layer::ViableEpidermis));
  auto collagen = [&](std::size_t l) {
    return end[l][healing::kCollagen1] + end[l][healing::kCollagen3];
  };
  nlohmann::json outcome;
  outcome["collagen_change_pct"] = {
      {"papillary", pct(collagen(pap), base[pap].collagen1 + base[pap].collagen3)},
      {"reticular", pct(collagen(ret), base[ret].collagen1 + base[ret].collagen3)}};
  outcome["elastin_change_pct"] =
      pct(0.5 * (end[pap][healing::kElastin] + end[ret][healing::kElastin]),
          0.5 * (base[pap].elastin + base[ret].elastin));
  outcome["epidermal_thickness_change_pct"] = 100.0 * (end[ve][healing::kEpidermalThickness] - 1.0);
  outcome["bleeding_fraction"] =
      puncture_total > 0 ? bleeding_sum / static_cast<double>(puncture_total) : 0.0;

  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  h5.attribute("mnsim_run", run_metadata(seed, threads, started, wall).dump());
  h5.close();
  ts.write_csv(opts.out_dir / "timeseries.csv");

  RunResult res;
  res.out_dir = opts.out_dir;
  res.summary = {{"schema_version", 1},
                 {"run", run_metadata(seed, threads, started, wall)},
                 {"scenario", scenario.to_json()},
                 {"sessions", session_log},
                 {"punctures_first_session", first_stats},
                 {"numerics",
                  {{"steps_accepted", engine.stepper().stats().accepted},
                   {"steps_rejected", engine.stepper().stats().rejected},
                   {"dt_smallest_s", engine.stepper().stats().dt_smallest},
                   {"dt_largest_s", engine.stepper().stats().dt_largest}}},
                 {"outcome", outcome}};
  io::write_file_atomic(opts.out_dir / "scenario.resolved.toml",
                        fmt::format("# mnsim {} ({}) resolved scenario, seed {}, started {}\n{}",
                                    version(), git_commit(), seed, started, resolved));
  io::write_file_atomic(opts.out_dir / "summary.json", res.summary.dump(2) + "\n");
  res.summary_text = fmt::format(
      "papillary collagen {:+.1f} %, reticular collagen {:+.1f} %, epidermis {:+.1f} %\n"
      "results: {}",
      outcome["collagen_change_pct"]["papillary"].get<double>(),
      outcome["collagen_change_pct"]["reticular"].get<double>(),
      outcome["epidermal_thickness_change_pct"].get<double>(), opts.out_dir.string());
  return res;
}

}  // namespace mnsim
