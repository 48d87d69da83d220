// Lesions from a scenario's lesion specs (lesions/spec.hpp): [[lesions]] placed explicitly,
// [inventory] generated from counts (seeded), and [surface] imported from a height map; each kind
// made by the registry (lesions/registry.hpp). Every check failure is an InputError at the
// offending key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "lesions/heightmap.hpp"
#include "lesions/lesion.hpp"
#include "lesions/lesion_data.hpp"
#include "lesions/registry.hpp"
#include "lesions/spec.hpp"

namespace mnsim::lesions {

/// Scenario schema sections contributed by this module ([[lesions]]: a variant per placeable
/// registered kind).
schema::Key lesions_schema();    // [[lesions]]
schema::Key inventory_schema();  // [inventory]
schema::Key surface_schema();    // [surface]

/// Lesions drawn from [inventory] counts. The n-th lesion (classes in inventory_classes() order)
/// draws everything from Rng(seed, kStreamLesions, n): first its shape with its kind's draw hook,
/// uniform within the data/lesions.toml ranges (depth capped at 90 % of lim.skin_depth, length at
/// 90 % of the smaller patch side, angle 0-180 deg), then uniform positions until its footprint
/// lies inside the patch and overlaps neither `placed` nor lesions placed before it. Lesions are
/// positioned largest first; footprints are compared on a 20 um lattice (at most 256 x 256 points)
/// over the intersection of their bounding boxes; after 1000 tries: InputError at the count.
/// Returned in inventory order.
Lesions generate_inventory(const InventorySpec& inventory, const LesionData& data,
                           const PatchLimits& lim, std::uint64_t seed, const Lesions& placed);

/// The [surface] height map as a lesion. The file is relative to the scenario file's folder.
/// Throws InputError for unreadable or malformed maps, a map smaller than the patch, or relief
/// deeper than the skin.
LesionPtr import_surface(const SurfaceSpec& surface, const LesionData& data,
                         const PatchLimits& lim);

/// A height map already read as the lesion [surface] makes of it (kind "measured", the
/// "measured" data of `data`; `name` names its source in describe()): InputError at `s`'s
/// height_scale when the relief is as deep as the skin (`skin_depth`, m). The consultation app's
/// uploaded height maps (serve/consult.hpp) are made so too.
LesionPtr measured_surface(const HeightMap& map, double pixel_size, double height_scale,
                           const LesionData& data, double skin_depth, const Settings& s,
                           const std::string& name);

/// All lesions of a scenario: [surface] (if any), [[lesions]], then [inventory].
Lesions make_lesions(const LesionsSpec& spec, const LesionData& data, const PatchLimits& lim);

/// Each lesion's id (summary.json, scars.csv), for `lesions` as make_lesions made them from
/// `spec`: a [[lesions]] entry's `id` when it has one, else "<kind>_<n>", n counting the lesions
/// of that kind from 1 in make_lesions order (the [surface] is "measured_1"). InputError at the
/// `id` of an entry whose id another lesion has (its own or by default).
std::vector<std::string> lesion_ids(const LesionsSpec& spec, const Lesions& lesions);

}  // namespace mnsim::lesions
