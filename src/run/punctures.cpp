#include "run/punctures.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <chrono>

#include "core/rng.hpp"
#include "core/version.hpp"
#include "devices/stage.hpp"
#include "io/checkpoint.hpp"
#include "io/files.hpp"
#include "io/output_folder.hpp"
#include "run/run.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

namespace fs = std::filesystem;

nlohmann::json run_punctures(Table scenario, const PuncturesOptions& opt) {
  using namespace devices;
  const std::string started = utc_now_iso();
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t seed = apply_seed_override(scenario, opt.seed);
  // The patient's skin at the treated site (atlas + age, sex, Fitzpatrick modifiers).
  const skin::PatchSpec patch = read_patch_spec(scenario);
  const skin::SkinProfile skin = skin::make_patch(patch).profile();
  const Rect area = treatment_area(patch.tissue);
  // The punctures of session 1 of `mnsim run` with this scenario and seed.
  StageResult r = run_device_stage(device_spec(scenario.table("device")),
                                   Technique::from_table(scenario.table("technique")), skin, area,
                                   session_seed(seed, 0));
  io::OutputFolder folder =
      io::OutputFolder::open(opt.out_dir, opt.force, "mnsim punctures " + scenario.loc().file);
  const fs::path stage = folder.staging();
  const DensityMap m = density_map(r.punctures, area, 1e-3);
  io::write_file_atomic(stage / "punctures.csv", punctures_csv(r.punctures));
  io::write_file_atomic(stage / "density.csv", density_csv(m));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json out = r.stats;
  out["schema_version"] = 1;
  out["skin_site"] = skin.site;
  out["area_mm"] = {area.x0 * 1e3, area.y0 * 1e3, area.x1 * 1e3, area.y1 * 1e3};
  out["run"] = run_metadata(seed, omp_get_max_threads(), started, wall);
  io::write_file_atomic(stage / "punctures.json", out.dump(2) + "\n");
  const std::string resolved = scenario.to_toml();
  io::write_file_atomic(stage / "scenario.resolved.toml",
                        fmt::format("# mnsim {} ({}) resolved scenario, seed {}, started {}\n{}",
                                    version(), git_commit(), seed, started, resolved));
  folder.commit({"punctures.json", "scenario.resolved.toml", "density.csv", "punctures.csv"},
                io::fnv1a64(resolved));
  return out;
}

}  // namespace mnsim
