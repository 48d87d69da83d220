// The device stage: builds the device and technique from a scenario, generates the punctures over
// a treatment area of a skin profile, and computes their statistics and density maps
// (`mnsim punctures` writes them: run/punctures.hpp).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>

#include "core/scenario.hpp"
#include "devices/device.hpp"
#include "devices/spec.hpp"
#include "skin/profile.hpp"
#include "skin/tissue.hpp"

namespace mnsim::devices {

/// Puncture counts on a regular grid of square cells over an area (cells that fit whole).
struct DensityMap {
  Rect area;
  double cell = 1e-3;  // m
  int nx = 0, ny = 0;
  std::vector<int> counts;  // row-major, iy * nx + ix
  int count(int ix, int iy) const { return counts[static_cast<std::size_t>(iy * nx + ix)]; }
  /// Punctures per m^2 in a cell.
  double density(int ix, int iy) const { return count(ix, iy) / (cell * cell); }
};

DensityMap density_map(const Punctures& p, const Rect& area, double cell = 1e-3);

/// Mean, coefficient of variation, min and max of the cell densities (per m^2).
struct DensityStats {
  double mean = 0.0, cv = 0.0, min = 0.0, max = 0.0;
};
DensityStats density_stats(const DensityMap& m);

/// Sum of the channel openings' areas (ellipses r x max(r, surface_length/2)) over the area.
double channel_area_fraction(const Punctures& p, const Rect& area);

/// The statistics of `mnsim punctures` (docs/devices.md lists the fields).
nlohmann::json puncture_stats(const Punctures& p, const Rect& area, const Device& dev,
                              const Technique& tq, const skin::SkinProfile& skin, double cell);

struct StageResult {
  Punctures punctures;
  nlohmann::json stats;
  double wall_s = 0.0;
};

/// Largest number of punctures one device stage may make (about 2 GB of events).
inline constexpr double kMaxPunctures = 2e7;

/// Builds the device and generates the punctures of one session (no files). InputError at
/// technique.passes when the treatment would exceed kMaxPunctures.
StageResult run_device_stage(
    const DeviceSpec& device, const Technique& technique, const skin::SkinProfile& skin,
    const Rect& area, std::uint64_t seed, const DeviceCatalog& catalog = DeviceCatalog::defaults(),
    const mechanics::PenetrationParams& mech = mechanics::PenetrationParams::defaults());

/// punctures.csv text (one row per puncture; header documents units).
std::string punctures_csv(const Punctures& p);
/// density.csv text: punctures per cm^2 on the map's grid, a row per y cell.
std::string density_csv(const DensityMap& m);

/// The treatment area: the whole patch, [tissue] width x length. Origin at the patch corner.
Rect treatment_area(const skin::TissueSpec& tissue);

}  // namespace mnsim::devices
