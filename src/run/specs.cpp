#include "run/specs.hpp"

#include "healing/options.hpp"

namespace mnsim {

lesions::LesionsSpec read_lesions(const Table& scenario) {
  lesions::LesionsSpec s;
  if (scenario.has_table("surface")) s.surface = lesions::read_surface(scenario.table("surface"));
  for (const Table& t : scenario.tables("lesions")) s.placed.push_back(lesions::read_lesion(t));
  if (scenario.has_table("inventory")) {
    s.inventory = lesions::read_inventory(scenario.table("inventory"));
  }
  s.seed = static_cast<std::uint64_t>(scenario.integer("seed"));
  return s;
}

std::optional<outcomes::FaceSpec> read_face_spec(const Table& scenario) {
  if (!scenario.has_table("face")) return std::nullopt;
  return outcomes::read_face(scenario.table("face"));
}

skin::PatchSpec read_patch_spec(const Table& scenario) {
  skin::PatchSpec s;
  s.patient = skin::read_patient(scenario.table("patient"));
  s.tissue = skin::read_tissue(scenario.table("tissue"));
  s.lesions = read_lesions(scenario);
  return s;
}

ScenarioSpecs read_specs(const Table& scenario) {
  ScenarioSpecs s;
  s.seed = static_cast<std::uint64_t>(scenario.integer("seed"));
  s.patch = read_patch_spec(scenario);
  s.device = devices::device_spec(scenario.table("device"));
  s.technique = devices::Technique::from_table(scenario.table("technique"));
  s.course = protocol::make_course(scenario.table("course"));
  s.engine = healing::engine_options(scenario.table("numerics"));
  s.output = make_output_plan(scenario.table("output"), s.course);
  s.face = read_face_spec(scenario);
  return s;
}

}  // namespace mnsim
