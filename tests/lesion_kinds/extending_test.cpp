// A lesion kind registered from outside the lesion module's own files (docs/extending.md, "A
// lesion kind"): everything about the kind is in this file, and its data table is added to a copy
// of the shipped data (a kind's tables live in data/lesions.toml, which is data, not code). Once
// registered, the kind is a [[lesions]] kind and an [inventory] class of the scenario language, a
// lesion on the patch and in the voxel tissue, graded as its hooks say, and carried through `mnsim
// run`, the planner and validation's mid-range scars, with no other file changed.
//
// This folder is its own test executable: the kind registered here is seen by these tests only.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <numbers>
#include <set>
#include <string>

#include <unistd.h>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "lesions/factory.hpp"
#include "lesions/registry.hpp"
#include "outcomes/goodman_baron.hpp"
#include "outcomes/scar_remodel.hpp"
#include "protocol/plan.hpp"
#include "protocol/validate.hpp"
#include "run/run.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "skin/tissue.hpp"

namespace mnsim::lesions {
namespace {

namespace fs = std::filesystem;

// ---- The kind: a crater with a flat floor and vertical walls (a cylinder) ----------------------

class Crater final : public Lesion {
 public:
  Crater(double x, double y, double width, double depth, Effects e)
      : Lesion(e), x_(x), y_(y), r_(0.5 * width), d_(depth) {}
  std::string_view kind() const override { return "test_crater"; }
  std::string describe() const override {
    return fmt::format("test crater {:.2f} mm wide, {:.2f} mm deep at ({:.3g}, {:.3g}) mm",
                       2e3 * r_, 1e3 * d_, 1e3 * x_, 1e3 * y_);
  }
  double depression(double x, double y) const override {
    return std::hypot(x - x_, y - y_) < r_ ? d_ : 0.0;
  }
  double volume() const override { return std::numbers::pi * r_ * r_ * d_; }
  double max_depth() const override { return d_; }
  Box bounds() const override { return {x_ - r_, y_ - r_, x_ + r_, y_ + r_}; }

 private:
  double x_, y_, r_, d_;
};

LesionPtr crater_make(const LesionSpec& spec, const LesionData& data) {
  const Settings& t = spec.settings;
  return std::make_shared<Crater>(spec.x, spec.y, t.quantity("width"), t.quantity("depth"),
                                  data.get("test_crater").effects());
}

void crater_draw(Rng& r, const KindData& k, const DrawLimits& lim, LesionShape& s) {
  draw_size(r, k, lim, s);
}

LesionPtr crater_shape(double x, double y, const LesionShape& s, const Effects& e) {
  return std::make_shared<Crater>(x, y, s.width, s.depth, e);
}

LesionKind crater_kind() {
  LesionKind k;
  k.name = "test_crater";
  k.doc = "a test kind: a flat-floored crater with vertical walls";
  k.keys = {
      schema::quantity("width", Dim::Length, "mm", "", "diameter", 10e-6, 50e-3).must(),
      schema::quantity("depth", Dim::Length, "mm", "", "depth of the floor", 1e-6, 10e-3).must()};
  k.data_keys = {"test_crater"};
  k.inventory_classes = {"test_crater"};
  k.make = crater_make;
  k.draw = crater_draw;
  k.shape = crater_shape;
  k.grading = GradingClass::PunchedOut;  // a punched-out scar, normal base when deep
  k.width = WidthRule::Largest;
  k.can_tether = false;
  k.plan_scar = true;
  return k;
}

// The kind's table of data/lesions.toml.
constexpr const char* kCraterData = R"(
[test_crater]
description = "test kind: flat-floored crater"
width_min = { value = "0.6 mm", source = "assumed: test" }
width_max = { value = "1.0 mm", source = "assumed: test" }
depth_min = { value = "0.2 mm", source = "assumed: test" }
depth_max = { value = "0.4 mm", source = "assumed: test" }
collagen_deficit = { value = "30 %", source = "assumed: test" }
disorder = { value = "40 %", source = "assumed: test" }
)";

// At test start: the shipped data with the kind's table (MNSIM_DATA_DIR), then the registration.
class CraterEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("mnsim_lesion_kind_{}", ::getpid());
    fs::create_directories(dir_);
    for (const auto& e : fs::directory_iterator(fs::path(MNSIM_TEST_DIR) / ".." / "data")) {
      // Folders too (data/web, the consultation app's page).
      fs::copy(e.path(), dir_ / e.path().filename(),
               fs::copy_options::overwrite_existing | fs::copy_options::recursive);
    }
    std::ofstream(dir_ / "lesions.toml", std::ios::app) << kCraterData;
    ::setenv("MNSIM_DATA_DIR", dir_.c_str(), 1);
    register_lesion_kind(crater_kind());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

 private:
  fs::path dir_;
};
[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new CraterEnvironment);

constexpr const char* kPatch = R"(
seed = 11
[patient]
site = "forehead"
age = "45 years"
[tissue]
width = "3 mm"
length = "3 mm"
resolution = "100 um"
)";

Table scenario(const std::string& body) {
  return parse_scenario_text(std::string(kPatch) + body, "crater.toml", scenario_schema());
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

// ---- The registry and the scenario language --------------------------------------------------

TEST(LesionKinds, EveryRegisteredKindIsInTheScenarioSchema) {
  const schema::Key& lesions = scenario_key("lesions");
  EXPECT_EQ(lesions.discriminator, "kind");
  std::set<std::string> choices;
  for (const auto& c : lesions.children) {
    if (c.name == "kind") choices.insert(c.choices.begin(), c.choices.end());
  }
  const schema::Key& inventory = scenario_key("inventory");
  std::set<std::string> counts;
  for (const auto& c : inventory.children) counts.insert(c.name);
  ASSERT_NE(find_lesion_kind("test_crater"), nullptr);
  for (const auto& kind : lesion_kinds()) {
    SCOPED_TRACE(kind.name);
    if (!kind.placeable) {
      EXPECT_EQ(lesions.variants.count(kind.name), 0u);
      EXPECT_EQ(choices.count(kind.name), 0u);
      continue;
    }
    EXPECT_EQ(choices.count(kind.name), 1u);
    ASSERT_EQ(lesions.variants.count(kind.name), 1u);
    const auto& variant = lesions.variants.at(kind.name);
    ASSERT_EQ(variant.size(), kind.keys.size());
    for (std::size_t i = 0; i < variant.size(); ++i) EXPECT_EQ(variant[i].name, kind.keys[i].name);
    for (const auto& cls : kind.inventory_classes) EXPECT_EQ(counts.count(cls), 1u) << cls;
    // Its data tables were read.
    for (const auto& key : kind.data_keys) EXPECT_EQ(default_lesion_data().get(key).key, key);
  }
  EXPECT_EQ(choices.size(), placeable_kinds().size());
  EXPECT_EQ(counts.size(), inventory_classes().size());
}

TEST(LesionKinds, UnknownKindsAreRefusedAtTheKindKeyListingTheKnownKinds) {
  const std::string msg =
      error_of([] { scenario("[[lesions]]\nkind = \"crater\"\nx = \"1 mm\"\ny = \"1 mm\"\n"); });
  EXPECT_NE(msg.find("crater.toml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lesions[0].kind"), std::string::npos) << msg;
  for (const auto& name : placeable_kinds()) {
    EXPECT_NE(msg.find(name), std::string::npos) << name << " not in: " << msg;
  }
  EXPECT_EQ(msg.find("measured"), std::string::npos) << msg;  // not a [[lesions]] kind
  // The registry's own check (a spec made in code) names the kind key the same way.
  LesionSpec spec;
  spec.kind = "crater";
  spec.settings.set_text("kind", "crater", {"code.toml", 3, 8});
  const std::string made = error_of([&] {
    make_lesion(spec, default_lesion_data(), {3e-3, 3e-3, 2e-3});
  });
  EXPECT_NE(made.find("code.toml:3:8: lesions.kind: unknown lesion kind 'crater'"),
            std::string::npos)
      << made;
  EXPECT_NE(made.find("test_crater"), std::string::npos) << made;
}

TEST(LesionKinds, AKindIsRegisteredOnceWithTheHooksItClaims) {
  EXPECT_THROW(register_lesion_kind(crater_kind()), std::logic_error);
  LesionKind no_factory = crater_kind();
  no_factory.name = "test_no_factory";
  no_factory.make = nullptr;  // placeable
  EXPECT_THROW(register_lesion_kind(no_factory), std::logic_error);
  LesionKind no_data = crater_kind();
  no_data.name = "test_no_data";
  no_data.data_keys.clear();  // draws a class it has no table for
  EXPECT_THROW(register_lesion_kind(no_data), std::logic_error);
  EXPECT_EQ(find_lesion_kind("test_no_factory"), nullptr);
  EXPECT_EQ(find_lesion_kind("test_no_data"), nullptr);
}

// ---- The kind on a patch -----------------------------------------------------------------------

TEST(LesionKinds, TheTestKindBuildsAPatchAndItsTissue) {
  const Table sc = scenario(R"(
[[lesions]]
kind = "test_crater"
x = "1 mm"
y = "1.5 mm"
width = "0.8 mm"
depth = "0.3 mm"
[inventory]
test_crater = 1
)");
  const skin::Tissue t = skin::build_tissue(read_patch_spec(sc));
  const Lesions& ls = t.patch.lesions();
  ASSERT_EQ(ls.size(), 2u);  // the placed crater, then the drawn one
  for (const auto& l : ls) EXPECT_EQ(l->kind(), "test_crater");
  EXPECT_DOUBLE_EQ(ls[0]->max_depth(), 0.3e-3);
  EXPECT_DOUBLE_EQ(ls[0]->effects().collagen_deficit, 0.3);
  // The drawn one: within the data table's ranges, inside the patch, apart from the first.
  const Box b = ls[1]->bounds();
  EXPECT_GE(b.x1 - b.x0, 0.6e-3 - 1e-12);
  EXPECT_LE(b.x1 - b.x0, 1.0e-3 + 1e-12);
  EXPECT_GE(ls[1]->max_depth(), 0.2e-3);
  EXPECT_LE(ls[1]->max_depth(), 0.4e-3);
  EXPECT_TRUE(fits(b, {3e-3, 3e-3, 1.0}));
  // The floor is in the voxels: the first tissue cell under the centre is the first whose centre
  // lies below 0.3 mm, with the deficit of the kind's data below it.
  const grid::Grid& g = t.grid();
  const int i = static_cast<int>(1e-3 / g.dx), j = static_cast<int>(1.5e-3 / g.dx);
  const auto k = static_cast<std::size_t>(t.surface_k[static_cast<std::size_t>(i + j * g.nx)]);
  ASSERT_GT(k, 0u);
  EXPECT_GE(0.5 * (g.zf[k] + g.zf[k + 1]), 0.3e-3);  // its centre below the floor
  EXPECT_LT(0.5 * (g.zf[k - 1] + g.zf[k]), 0.3e-3);  // the cell above: outside
  EXPECT_DOUBLE_EQ(t.patch.collagen_deficit(1e-3, 1.5e-3), 0.3);
  EXPECT_EQ(t.surface_k[0], 0);

  // The registry's generic checks apply to it: outside the patch, deeper than the skin.
  const std::string outside = error_of([] {
    skin::make_patch(read_patch_spec(scenario(
        "[[lesions]]\nkind = \"test_crater\"\nx = \"2.8 mm\"\ny = \"1 mm\"\nwidth = \"0.8 mm\"\n"
        "depth = \"0.3 mm\"\n")));
  });
  EXPECT_NE(outside.find("lesions[0].x: the test_crater extends outside the patch"),
            std::string::npos)
      << outside;
  const std::string deep = error_of([] {
    skin::make_patch(read_patch_spec(scenario(
        "[[lesions]]\nkind = \"test_crater\"\nx = \"1 mm\"\ny = \"1 mm\"\nwidth = \"0.8 mm\"\n"
        "depth = \"5 mm\"\n")));
  });
  EXPECT_NE(deep.find("lesions[0].depth: 5 mm is deeper than the skin"), std::string::npos) << deep;
}

TEST(LesionKinds, TheTestKindIsGradedAndRemodelledAsItsHooksSay) {
  const Crater c(0, 0, 1.2e-3, 0.3e-3, {});
  const outcomes::ScarGeometry geo = outcomes::scar_geometry(c);
  EXPECT_EQ(geo.kind, "test_crater");
  EXPECT_DOUBLE_EQ(geo.width, 1.2e-3);  // WidthRule::Largest
  EXPECT_FALSE(geo.tethered);
  outcomes::GradingRules r;
  r.visible_depth = 50e-6;
  r.mild_depth = 150e-6;
  r.deep_depth = 500e-6;
  r.broad_width = 5e-3;
  using outcomes::GbRow;
  // Punched out (not rolling-like: moderate atrophic; not icepick: abnormal base when deep).
  EXPECT_EQ(outcomes::classify({"test_crater", 300e-6, 1.2e-3}, r), GbRow::PunchedOutShallow);
  EXPECT_EQ(outcomes::classify({"test_crater", 600e-6, 1.2e-3}, r), GbRow::PunchedOutDeep);
  EXPECT_EQ(outcomes::classify({"test_crater", 100e-6, 1.2e-3}, r), GbRow::MildDish);
  EXPECT_EQ(outcomes::classify({"test_crater", 30e-6, 1.2e-3}, r), GbRow::NotGraded);
  // Punched out with a normal base: flattens on stretch while shallow, not once deep.
  using outcomes::GbClass;
  EXPECT_EQ(outcomes::qualitative_class({"test_crater", 300e-6, 1.2e-3}, r), GbClass::Moderate);
  EXPECT_EQ(outcomes::qualitative_class({"test_crater", 600e-6, 1.2e-3}, r), GbClass::Severe);
  EXPECT_EQ(outcomes::qualitative_class({"test_crater", 100e-6, 1.2e-3}, r), GbClass::Mild);
}

// ---- Through the pipeline ----------------------------------------------------------------------

TEST(LesionKinds, TheTestKindRunsThroughMnsimRunThePlannerAndValidation) {
  const fs::path out = fs::temp_directory_path() / fmt::format("mnsim_crater_run_{}", ::getpid());
  fs::remove_all(out);
  RunOptions o;
  o.out_dir = out;
  o.threads = 1;
  // A small patch, one pass of a pen, a day of healing (under a second).
  const Table sc = parse_scenario_text(R"(
seed = 11
[patient]
site = "forehead"
age = "45 years"
[tissue]
width = "2 mm"
length = "2 mm"
resolution = "150 um"
[[lesions]]
kind = "test_crater"
x = "1 mm"
y = "1 mm"
width = "1.2 mm"
depth = "0.3 mm"
[device]
kind = "pen"
model = "dermapen_2012"
depth = "0.5 mm"
[technique]
passes = 1
[course]
sessions = 1
follow_up = "1 day"
[output]
snapshots = ["end"]
)",
                                       "crater_run.toml", scenario_schema());
  // Its spec, as the composing layer reads it: the kind, the centre, its keys where they were
  // written (later errors name file:line:key).
  const ScenarioSpecs specs = read_specs(sc);
  ASSERT_EQ(specs.patch.lesions.placed.size(), 1u);
  const LesionSpec& spec = specs.patch.lesions.placed[0];
  EXPECT_EQ(spec.kind, "test_crater");
  EXPECT_DOUBLE_EQ(spec.x, 1e-3);
  EXPECT_EQ(spec.settings.loc_of("depth").file, "crater_run.toml");
  EXPECT_EQ(spec.settings.loc_of("depth").line, 15);
  EXPECT_EQ(spec.settings.key_path("depth"), "lesions[0].depth");
  EXPECT_EQ(specs.patch.tissue.resolution, 150e-6);
  EXPECT_EQ(specs.course.sessions.size(), 1u);
  const RunResult res = run_scenario(sc, o);
  const nlohmann::json& s = res.summary;
  ASSERT_TRUE(s.contains("outcome")) << s.dump(1);
  const nlohmann::json& oc = s["outcome"];
  ASSERT_EQ(oc["scars"].size(), 1u);
  EXPECT_EQ(oc["scars"][0]["type"], "test_crater");
  EXPECT_NE(oc["scars"][0]["description"].get<std::string>().find("test crater 1.20 mm wide"),
            std::string::npos);
  EXPECT_NEAR(oc["scars"][0]["depth_um_before"].get<double>(), 300.0, 1e-9);
  EXPECT_LE(oc["scars"][0]["depth_um_after"].get<double>(), 300.0);
  // One punched-out shallow scar: 2 points x 1.
  EXPECT_EQ(oc["goodman_baron"]["quantitative_before"], 2);
  // On its own: obvious at 50 cm, flattens on stretch (shallow, normal base): moderate.
  EXPECT_EQ(oc["goodman_baron"]["qualitative_before"], 3);
  fs::remove_all(out);

  // The planner: a [[scars]] kind (plan_scar), measured by width and depth.
  const fs::path plan = fs::temp_directory_path() / fmt::format("mnsim_crater_{}.toml", ::getpid());
  std::ofstream(plan) << "[[scars]]\nkind = \"test_crater\"\nwidth = \"1 mm\"\ndepth = \"0.3 mm\"\n"
                         "[inventory]\ntest_crater = 2\n";
  const protocol::PlanPatient p = protocol::load_plan_patient(plan.string());
  fs::remove(plan);
  ASSERT_EQ(p.spec.scars.size(), 3u);
  for (const auto& sc : p.spec.scars) EXPECT_EQ(sc.kind, "test_crater");
  EXPECT_DOUBLE_EQ(p.spec.scars[0].width, 1e-3);
  // Validation's mid-range scar of the class; the planner's two inventory scars of it at the
  // quartiles of its 0.2-0.4 mm depth range, mid-range wide.
  const outcomes::ScarGeometry mid = protocol::mid_range_scar("test_crater");
  EXPECT_DOUBLE_EQ(mid.width, 0.8e-3);
  EXPECT_DOUBLE_EQ(mid.depth, 0.3e-3);
  EXPECT_NEAR(p.spec.scars[1].depth, 0.25e-3, 1e-12);
  EXPECT_NEAR(p.spec.scars[2].depth, 0.35e-3, 1e-12);
  EXPECT_DOUBLE_EQ(p.spec.scars[1].width, mid.width);
}

}  // namespace
}  // namespace mnsim::lesions
