// A device kind added from outside src/devices (docs/extending.md, "A device kind"): the comb, one
// row of needles pressed down and lifted along the stroke, is defined and registered in this
// file only. The scenario schema, the catalog check, the factory and the device stage take it
// from the registry; docs/extending.md shows the same code (checked below).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "devices/registry.hpp"
#include "devices/stage.hpp"
#include "devices/stamping.hpp"
#include "run/scenario_schema.hpp"
#include "support/files.hpp"
#include "support/skin.hpp"

namespace {

using namespace mnsim;
using namespace mnsim::devices;

// BEGIN docs/extending.md device-kind
// One row of needles across the stroke, pressed every pitch along it.
class Comb final : public Stamping {
 public:
  explicit Comb(const Resolver& r) {
    model_ = r.entry().id();
    r.common_needle(needle_, material_);  // diameter, tip radius and angle, material
    needles_ = static_cast<int>(r.integer("needles"));
    pitch_ = r.quantity("pitch", Dim::Length);
    needle_.length = r.quantity("needle_length", Dim::Length);
    press_rate_ = r.quantity("press_rate", Dim::Frequency);
    for (int j = 0; j < needles_; ++j)
      offsets_.emplace_back(0.0, (j - 0.5 * (needles_ - 1)) * pitch_);
    set_spacing_from_offsets();
  }
  std::string_view kind() const override { return "comb"; }
  std::size_t needle_count() const override { return static_cast<std::size_t>(needles_); }
  double swath() const override { return needles_ * pitch_; }
  double density_per_pass(const Technique& tq) const override {
    const double f = 1.0 - tq.overlap;
    return 1.0 / (pitch_ * pitch_ * f * f);
  }
  double needles_loaded(const Technique&) const override { return needles_; }
  double stroke_duration(const Stroke& s, const Technique& tq) const override {
    return s.length / step(s, tq) / press_rate_;
  }
  std::string describe() const override {
    return "comb '" + model_ + "': " + std::to_string(needles_) + " needles in a row";
  }

 protected:
  double step(const Stroke&, const Technique& tq) const override {
    return pitch_ * (1.0 - tq.overlap);
  }
  double rate() const override { return press_rate_; }
  double contact_fraction(double) const override { return 0.0; }

 private:
  int needles_ = 0;
  double pitch_ = 0.0, press_rate_ = 0.0;
};

DeviceKind comb_kind() {
  using T = CatalogKey::Type;
  DeviceKind k;
  k.name = "comb";
  k.doc = "a comb: one row of needles pressed down and lifted along the stroke";
  k.keys = {
      schema::integer("needles", "", "Needles in the row.", 1, 1000),
      schema::quantity("pitch", Dim::Length, "mm", "", "Needle spacing.", 1e-5, 0.01),
      schema::quantity("needle_length", Dim::Length, "mm", "", "Needle length.", 1e-5, 5e-3),
      schema::quantity("press_rate", Dim::Frequency, "Hz", "", "Presses per second.", 0.01, 100.0)};
  k.catalog_keys = {{"needles", T::Integer},
                    {"pitch", T::Quantity, Dim::Length},
                    {"needle_length", T::Quantity, Dim::Length},
                    {"press_rate", T::Quantity, Dim::Frequency}};
  k.default_model = "comb_10";
  k.make = [](const Resolver& r) -> std::unique_ptr<Device> { return std::make_unique<Comb>(r); };
  return k;
}
// END docs/extending.md device-kind

// Registered before main(), as a plug-in would be: before the scenario schema and the catalog are
// first built.
const bool registered = (register_device_kind(comb_kind()), true);

const char* kCatalog = R"(
[comb_10]
kind = "comb"
name = "Test comb: 10 needles in a row at 1 mm"
needles = { value = 10, source = "assumed: test device" }
pitch = { value = "1 mm", source = "assumed: test device" }
needle_length = { value = "1.0 mm", source = "assumed: test device" }
press_rate = { value = "4 Hz", source = "assumed: test device" }
needle_diameter = { value = "0.25 mm", source = "assumed: test device" }
tip_radius = { value = "5 um", source = "assumed: test device" }
tip_angle = { value = "30 deg", source = "assumed: test device" }
material = { value = "titanium", source = "assumed: test device" }
)";

std::filesystem::path catalog_file() {
  const auto p = std::filesystem::temp_directory_path() /
                 ("mnsim-comb-catalog-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(p) << kCatalog;
  return p;
}

Table scenario(const std::string& device) {
  return parse_scenario_text("seed = 1\n[device]\n" + device +
                                 "\n[technique]\npasses = 2\njitter_position = \"0 mm\"\n"
                                 "jitter_angle = \"0 deg\"\n",
                             "comb.toml", scenario_schema());
}

skin::SkinProfile cheek() {
  return test::cheek_profile();
}

TEST(DeviceKindRegistry, TheTestKindIsListedAndInTheSchema) {
  ASSERT_TRUE(registered);
  const auto names = device_kind_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "comb"), names.end());
  // The kind's keys are the [device] keys of kind = "comb", and only of it.
  EXPECT_NO_THROW(scenario("kind = \"comb\"\nneedles = 12\npitch = \"0.8 mm\""));
  try {
    scenario("kind = \"roller\"\nneedles = 12");
    ADD_FAILURE() << "needles accepted for a roller";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("needles"), std::string::npos) << e.what();
  }
  // An unknown kind lists the test kind among the known ones.
  try {
    scenario("kind = \"rake\"");
    ADD_FAILURE() << "unknown kind accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("comb"), std::string::npos) << e.what();
  }
}

TEST(DeviceKindRegistry, TheTestKindMakesPuncturesThroughTheDeviceStage) {
  const auto path = catalog_file();
  const DeviceCatalog catalog = DeviceCatalog::load(path);
  std::filesystem::remove(path);
  const Table sc = scenario("kind = \"comb\"");
  const DeviceSpec spec = device_spec(sc.table("device"));
  const Technique tq = Technique::from_table(sc.table("technique"));
  const auto dev = make_device(spec, catalog);
  EXPECT_EQ(dev->kind(), "comb");
  EXPECT_EQ(dev->needle_count(), 10u);
  EXPECT_NEAR(dev->needle().spacing, 1e-3, 1e-12);
  const Rect area{0, 0, 0.02, 0.02};
  const StageResult a = run_device_stage(spec, tq, cheek(), area, 7, catalog);
  const StageResult b = run_device_stage(spec, tq, cheek(), area, 7, catalog);
  ASSERT_FALSE(a.punctures.empty());
  EXPECT_EQ(a.punctures.size(), b.punctures.size());  // same seed, same punctures
  for (const auto& p : a.punctures) {
    EXPECT_TRUE(p.x >= area.x0 && p.x <= area.x1 && p.y >= area.y0 && p.y <= area.y1);
  }
  // Its analytic density per pass, 1 / (pitch (1 - overlap))^2, over two passes: the punctures
  // counted over the area agree within the edge losses of the strokes.
  const double expected = tq.passes * dev->density_per_pass(tq) * area.area();
  EXPECT_NEAR(static_cast<double>(a.punctures.size()) / expected, 1.0, 0.1)
      << a.punctures.size() << " punctures, expected about " << expected;
  EXPECT_EQ(a.stats["device"]["kind"], "comb");
}

TEST(DeviceKindRegistry, TheTestKindsSettingsAreCheckedAtTheirKey) {
  const auto path = catalog_file();
  const DeviceCatalog catalog = DeviceCatalog::load(path);
  std::filesystem::remove(path);
  try {
    scenario("kind = \"comb\"\npitch = \"2 cm\"");
    ADD_FAILURE() << "a 2 cm pitch accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("comb.toml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("device.pitch"), std::string::npos) << e.what();
  }
  // The shipped catalog has no comb: the model is refused at device.model.
  const Table sc = scenario("kind = \"comb\"");
  try {
    make_device(device_spec(sc.table("device")), DeviceCatalog::defaults());
    ADD_FAILURE() << "a comb made without a comb model";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("device.model"), std::string::npos) << e.what();
  }
}

// docs/extending.md shows this file's device-kind code, line for line.
TEST(DeviceKindRegistry, TheDocumentationShowsThisCode) {
  const std::string code =
      test::marked_code("extending/device_kind_test.cpp", "docs/extending.md device-kind");
  ASSERT_FALSE(code.empty());
  EXPECT_TRUE(test::doc_shows("extending.md", code))
      << "docs/extending.md, 'A device kind', must show tests/extending/device_kind_test.cpp "
         "between its BEGIN and END markers";
}

}  // namespace
