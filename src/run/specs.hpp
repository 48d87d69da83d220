// The composing layer's reading of a scenario: each module reads its own section into a typed
// spec (skin: patient and tissue, lesions: [[lesions]], [surface], [inventory], devices: device and
// technique, protocol: course, healing: engine options, run: output plan, outcomes: the [face]
// inventory), and this file gathers them. Stages take specs, never the scenario Table
// (docs/architecture.md).
#pragma once

#include <cstdint>
#include <optional>

#include "core/scenario.hpp"
#include "devices/device.hpp"
#include "devices/spec.hpp"
#include "healing/engine.hpp"
#include "lesions/spec.hpp"
#include "outcomes/face_inventory.hpp"
#include "protocol/course.hpp"
#include "run/output.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

/// Every spec of a scenario.
struct ScenarioSpecs {
  std::uint64_t seed = 1;
  skin::PatchSpec patch;  // patient, tissue, lesions
  devices::DeviceSpec device;
  devices::Technique technique;
  protocol::Course course;
  healing::EngineOptions engine;
  OutputPlan output;
  std::optional<outcomes::FaceSpec> face;  // [face]: graded instead of the patch's scars
};

/// Reads every section of a validated scenario (InputError where a section's own checks fail:
/// the course, the numerics, the output plan).
ScenarioSpecs read_specs(const Table& scenario);

/// The [face] inventory, if the scenario has one (InputError when it lists no scar).
std::optional<outcomes::FaceSpec> read_face_spec(const Table& scenario);

/// The lesion sections of a scenario ([surface], [[lesions]], [inventory], and the seed).
lesions::LesionsSpec read_lesions(const Table& scenario);
/// What the skin stage needs: [patient], [tissue] and the lesion sections. Reads nothing else,
/// so it fails only where those sections do.
skin::PatchSpec read_patch_spec(const Table& scenario);

}  // namespace mnsim
