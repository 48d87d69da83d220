// The RF needle model (thermal/rf.hpp) and the RF device kind (devices/rf.cpp; docs/rf.md):
// the Arrhenius integral at constant temperature, the coagulation zone's response to energy,
// pulse and insulation, the energy delivered, and the device's scenario keys and their errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "devices/registry.hpp"
#include "devices/stage.hpp"
#include "run/scenario_schema.hpp"
#include "support/skin.hpp"
#include "thermal/rf.hpp"

namespace {

using namespace mnsim;
using namespace mnsim::thermal;

RfPulse pulse(double energy, double duration, double insulated = 0.7e-3, double depth = 1.0e-3) {
  RfPulse p;
  p.needle_radius = 0.1e-3;
  p.depth = depth;
  p.insulated_length = insulated;
  p.energy = energy;
  p.duration = duration;
  return p;
}

TEST(RfModel, ArrheniusIntegralAtConstantTemperature) {
  // Omega(t) = A exp(-Ea / (R T)) t at constant T; Henriques' skin coefficients (data/rf.toml).
  const RfTissue& t = RfTissue::defaults();
  EXPECT_DOUBLE_EQ(t.arrhenius_a, 3.1e98);
  EXPECT_DOUBLE_EQ(t.arrhenius_ea, 6.28e5);
  for (double T : {323.15, 333.15, 343.15, 353.15}) {
    const double k = arrhenius_rate(T, t.arrhenius_a, t.arrhenius_ea);
    const double direct = 3.1e98 * std::exp(-6.28e5 / (kGasConstant * T));
    EXPECT_NEAR(k / direct, 1.0, 1e-12) << T;
  }
  // Time to Omega = 1: about 1.1 s at 60 C, about 1 ms at 70 C (a 10 K rise speeds it up
  // about 700-fold near 65 C with this activation energy).
  const double t60 = 1.0 / arrhenius_rate(333.15, t.arrhenius_a, t.arrhenius_ea);
  const double t70 = 1.0 / arrhenius_rate(343.15, t.arrhenius_a, t.arrhenius_ea);
  EXPECT_GT(t60, 0.5);
  EXPECT_LT(t60, 3.0);
  EXPECT_GT(t60 / t70, 300.0);
}

TEST(RfModel, DeliversTheSetEnergyAndCoagulatesAroundTheTip) {
  const auto skin = test::cheek_profile();
  const CoagulationZone z = coagulation_zone(pulse(20e-3, 0.05), skin);
  EXPECT_NEAR(z.delivered_energy, 20e-3, 1e-12);
  ASSERT_TRUE(z.coagulated());
  // Around the 0.3 mm bare tip (0.7-1.0 mm), sparing the epidermis.
  EXPECT_GT(z.top, 0.3e-3) << z.top;
  EXPECT_LT(z.top, 0.75e-3);
  EXPECT_GT(z.bottom, 1.0e-3);
  EXPECT_GT(z.radius, 0.1e-3);  // wider than the needle
  EXPECT_LT(z.radius, 0.6e-3);
  EXPECT_GT(z.peak_temperature, 273.15 + 60.0);
  EXPECT_GT(z.impedance, 100.0);
  RecordProperty("radius_um", std::to_string(z.radius * 1e6));
  RecordProperty("top_um", std::to_string(z.top * 1e6));
  RecordProperty("bottom_um", std::to_string(z.bottom * 1e6));
  RecordProperty("peak_C", std::to_string(z.peak_temperature - 273.15));
  RecordProperty("impedance_ohm", std::to_string(z.impedance));
}

TEST(RfModel, ZoneGrowsWithEnergyAndNeedsEnough) {
  const auto skin = test::cheek_profile();
  const CoagulationZone none = coagulation_zone(pulse(2e-3, 0.05), skin);
  EXPECT_FALSE(none.coagulated()) << "2 mJ in 50 ms heats a 0.2 mm needle's tip by under 10 K";
  EXPECT_LT(none.peak_temperature, 273.15 + 50.0);
  double prev = 0.0;
  for (double e : {12e-3, 20e-3, 30e-3, 40e-3}) {
    const CoagulationZone z = coagulation_zone(pulse(e, 0.05), skin);
    ASSERT_TRUE(z.coagulated()) << e;
    EXPECT_GT(z.volume, prev) << e;
    prev = z.volume;
  }
}

TEST(RfModel, LongerPulseOfTheSameEnergyHeatsLess) {
  const auto skin = test::cheek_profile();
  const CoagulationZone s = coagulation_zone(pulse(20e-3, 0.02), skin);
  const CoagulationZone l = coagulation_zone(pulse(20e-3, 0.4), skin);
  EXPECT_GT(s.peak_temperature, l.peak_temperature);
}

TEST(RfModel, ABareNeedleCoagulatesUpToTheSurface) {
  const auto skin = test::cheek_profile();
  const CoagulationZone bare = coagulation_zone(pulse(60e-3, 0.05, 0.0), skin);
  const CoagulationZone ins = coagulation_zone(pulse(60e-3, 0.05, 0.7e-3), skin);
  ASSERT_TRUE(bare.coagulated());
  // A bare needle heats all along its shaft: its zone reaches the papillary dermis and the
  // epidermis (62 um thick here).
  EXPECT_LT(bare.top, 100e-6) << "a non-insulated needle heats the upper dermis too";
  EXPECT_GT(ins.top, bare.top + 0.3e-3);
}

TEST(RfModel, ZoneConvergesWithTheGrid) {
  // The 20 mJ, 50 ms zone on 40, 20 (the default) and 10 um cells: the radius converges, and
  // the default cell is within 3 % of the finer one (docs/rf.md, "Verification").
  const auto skin = test::cheek_profile();
  RfTissue t = RfTissue::defaults();
  std::vector<double> r;
  for (double h : {40e-6, 20e-6, 10e-6}) {
    t.cell = h;
    r.push_back(coagulation_zone(pulse(20e-3, 0.05), skin, t).radius);
    RecordProperty("radius_um_" + std::to_string(static_cast<int>(h * 1e6)),
                   std::to_string(r.back() * 1e6));
  }
  EXPECT_LT(std::abs(r[2] - r[1]), std::abs(r[1] - r[0]));
  EXPECT_LT(std::abs(r[1] - r[2]) / r[2], 0.03);
}

TEST(RfModel, TheMemoAnswersAsTheSolveDoes) {
  // With the shipped tissue a discretised problem solved before comes from the memo: the same
  // zone as a fresh solve (a copy of the tissue is never memoised), also for a profile whose
  // layer faces move within their 20 um cells (the grid sees the same problem).
  const auto skin = test::cheek_profile();
  const RfTissue copy = RfTissue::defaults();
  const CoagulationZone fresh = coagulation_zone(pulse(21e-3, 0.05), skin, copy);
  const CoagulationZone first = coagulation_zone(pulse(21e-3, 0.05), skin);
  auto moved = skin;
  moved.thickness[3] += 2e-6;  // the reticular dermis 2 um thicker: the same cells
  const CoagulationZone again = coagulation_zone(pulse(21e-3, 0.05), moved);
  for (const CoagulationZone* z : {&first, &again}) {
    EXPECT_EQ(z->radius, fresh.radius);
    EXPECT_EQ(z->top, fresh.top);
    EXPECT_EQ(z->bottom, fresh.bottom);
    EXPECT_EQ(z->volume, fresh.volume);
    EXPECT_EQ(z->peak_temperature, fresh.peak_temperature);
    EXPECT_EQ(z->steps, fresh.steps);
  }
  // A different problem is solved again.
  EXPECT_NE(coagulation_zone(pulse(22e-3, 0.05), skin).radius, fresh.radius);
}

TEST(RfModel, RefusesAPulseThatDoesNotFit) {
  const auto skin = test::cheek_profile();
  EXPECT_THROW(coagulation_zone(pulse(1e-3, 0.05, 1.0e-3), skin), std::invalid_argument);
  EXPECT_THROW(coagulation_zone(pulse(0.0, 0.05), skin), std::invalid_argument);
  EXPECT_THROW(coagulation_zone(pulse(1e-3, 0.0), skin), std::invalid_argument);
}

// --- The device kind ------------------------------------------------------------------------

Table scenario(const std::string& device) {
  return parse_scenario_text("seed = 1\n[device]\nkind = \"rf\"\n" + device +
                                 "\n[technique]\npasses = 1\njitter_position = \"0 mm\"\n"
                                 "jitter_angle = \"0 deg\"\njitter_force = \"0 %\"\n",
                             "rf.toml", scenario_schema());
}

devices::StageResult stage(const std::string& device) {
  const Table sc = scenario(device);
  const auto spec = devices::device_spec(sc.table("device"));
  const auto tq = devices::Technique::from_table(sc.table("technique"));
  return devices::run_device_stage(spec, tq, test::cheek_profile(), {0, 0, 0.01, 0.01}, 3);
}

std::string error_of(const std::string& device) {
  try {
    stage(device);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(RfDevice, IsARegisteredKindWhosePuncturesCarryTheZone) {
  const auto names = devices::device_kind_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "rf"), names.end());
  const auto r = stage("");
  ASSERT_FALSE(r.punctures.empty());
  EXPECT_EQ(r.stats["device"]["kind"], "rf");
  ASSERT_TRUE(r.stats.contains("coagulation_zone_um"));
  EXPECT_EQ(r.stats["coagulation_zone_um"]["punctures"], r.punctures.size());
  for (const auto& p : r.punctures) {
    ASSERT_TRUE(p.coagulated());
    EXPECT_GT(p.coag_bottom, p.depth - 1e-9);
  }
}

TEST(RfDevice, PowerTimesPulseIsTheEnergy) {
  const auto a = stage("energy = \"20 mJ\"\npulse_duration = \"50 ms\"");
  const auto b = stage("power = \"400 mW\"\npulse_duration = \"50 ms\"");
  ASSERT_FALSE(a.punctures.empty());
  ASSERT_EQ(a.punctures.size(), b.punctures.size());
  // 400 mW x 50 ms is 20 mJ to the last bits of a double (the solves differ by rounding only).
  EXPECT_NEAR(a.punctures[0].coag_radius, b.punctures[0].coag_radius,
              1e-12 * a.punctures[0].coag_radius);
  EXPECT_NEAR(a.punctures[0].coag_bottom, b.punctures[0].coag_bottom,
              1e-12 * a.punctures[0].coag_bottom);
}

TEST(RfDevice, BadSettingsNameTheirKey) {
  const auto has = [](const std::string& e, const std::string& s) {
    return e.find(s) != std::string::npos;
  };
  std::string e = error_of("energy = \"2 mJ\"\npower = \"1 W\"");
  EXPECT_TRUE(has(e, "rf.toml:5:")) << e;
  EXPECT_TRUE(has(e, "device.power")) << e;
  e = error_of("energy = \"2 J\"");
  EXPECT_TRUE(has(e, "device.energy")) << e;
  EXPECT_TRUE(has(e, "out of range")) << e;
  e = error_of("energy = \"2 mm\"");
  EXPECT_TRUE(has(e, "device.energy")) << e;
  e = error_of("frequency = \"20 MHz\"");
  EXPECT_TRUE(has(e, "device.frequency")) << e;
  e = error_of("pulse_duration = \"0.5 s\"\npress_rate = \"4 Hz\"");
  EXPECT_TRUE(has(e, "device.pulse_duration")) << e;
  e = error_of("insulated_length = \"1.5 mm\"");
  EXPECT_TRUE(has(e, "device.insulated_length")) << e;
}

TEST(RfDevice, NeedlesThatStopAboveTheirInsulationDepositNoHeat) {
  // 1.0 mm needles reach about 0.69 mm on the cheek: a 0.95 mm insulation leaves no electrode
  // in the skin, so no current flows and the punctures are mechanical only.
  const auto r = stage("needle_length = \"1.0 mm\"\ninsulated_length = \"0.95 mm\"");
  ASSERT_FALSE(r.punctures.empty());
  for (const auto& p : r.punctures) EXPECT_FALSE(p.coagulated());
  EXPECT_FALSE(r.stats.contains("coagulation_zone_um"));
}

}  // namespace

namespace {

TEST(RfFrequency, ColeColeReproducesTheOneMegahertzConductivities) {
  // Gabriel, Lau & Gabriel 1996 (Table 1) at 1 MHz: dry skin 0.0132, wet skin 0.2216, fat 0.0251
  // S/m (the values this model used before the conductivity followed the frequency).
  const RfTissue& t = RfTissue::defaults();
  const double expected[skin::kLayers] = {0.0132, 0.221, 0.221, 0.221, 0.0251};
  for (int l = 0; l < skin::kLayers; ++l) {
    const LayerProperties& p = t.layer[static_cast<std::size_t>(l)];
    EXPECT_NEAR(p.dielectric.conductivity(1e6), expected[l], 0.005 * expected[l]) << l;
    EXPECT_DOUBLE_EQ(p.sigma, p.dielectric.conductivity(1e6)) << l;
  }
}

TEST(RfFrequency, ConductivityFollowsTheParametricModel) {
  // The 4-Cole-Cole model evaluated independently (docs/rf.md, "Frequency": complex arithmetic
  // in Python from the Table 1 parameters) at 0.1, 0.5, 2 and 10 MHz, and the trend: the
  // conductivity rises with frequency in every tissue, steeply in dry skin (its beta dispersion),
  // barely in fat.
  const RfTissue& t = RfTissue::defaults();
  const ColeCole& dry = t.layer[0].dielectric;
  const ColeCole& wet = t.layer[3].dielectric;
  const ColeCole& fat = t.layer[4].dielectric;
  struct Row {
    double f, dry, wet, fat;
  };
  for (const Row& r :
       {Row{1e5, 0.000451289, 0.0658374, 0.0244142}, Row{5e5, 0.00436467, 0.177984, 0.0248336},
        Row{2e6, 0.0371026, 0.266495, 0.0255016}, Row{1e7, 0.197321, 0.366013, 0.0291526}}) {
    EXPECT_NEAR(dry.conductivity(r.f), r.dry, 1e-5 * r.dry) << r.f;
    EXPECT_NEAR(wet.conductivity(r.f), r.wet, 1e-5 * r.wet) << r.f;
    EXPECT_NEAR(fat.conductivity(r.f), r.fat, 1e-5 * r.fat) << r.f;
  }
  double last_dry = 0.0, last_wet = 0.0, last_fat = 0.0;
  for (double f = 1e5; f <= 1e7 * 1.0001; f *= 1.25) {
    EXPECT_GT(dry.conductivity(f), last_dry);
    EXPECT_GT(wet.conductivity(f), last_wet);
    EXPECT_GT(fat.conductivity(f), last_fat);
    last_dry = dry.conductivity(f);
    last_wet = wet.conductivity(f);
    last_fat = fat.conductivity(f);
  }
  // The permittivity falls with frequency (dispersion).
  EXPECT_GT(wet.permittivity(1e5), wet.permittivity(1e6));
  EXPECT_GT(wet.permittivity(1e6), wet.permittivity(1e7));
  EXPECT_NEAR(wet.permittivity(1e6), 1833.0, 20.0);
}

TEST(RfFrequency, TheZoneFollowsTheFrequencyAndBadFrequenciesAreRefused) {
  const auto skin = test::cheek_profile();
  RfPulse p = pulse(20e-3, 0.05);
  p.frequency = 1e6;
  const CoagulationZone at1 = coagulation_zone(p, skin);
  p.frequency = 1e7;
  const CoagulationZone at10 = coagulation_zone(p, skin);
  // The power is set, so only the ratios between layers move the zone: at 10 MHz the dermis
  // conducts 1.7 times more, the fat 1.2 times: a different zone, the same energy.
  ASSERT_TRUE(at1.coagulated());
  ASSERT_TRUE(at10.coagulated());
  EXPECT_NE(at1.radius, at10.radius);
  EXPECT_NEAR(at10.delivered_energy, 20e-3, 1e-12);
  EXPECT_LT(at10.impedance, at1.impedance);  // the tissue conducts better
  for (double f : {5e4, 2e7, 0.0}) {
    p.frequency = f;
    EXPECT_THROW(coagulation_zone(p, skin), std::invalid_argument) << f;
  }
}

TEST(RfCollagen, DenaturationFollowsItsOwnKinetics) {
  // Maitland & Walsh 1997: Omega_c = A_c exp(-Ea_c / (R T)) t; 1 after 42 ms at 80 C.
  const RfTissue& t = RfTissue::defaults();
  const double k80 = arrhenius_rate(353.15, t.collagen_a, t.collagen_ea);
  EXPECT_NEAR(1.0 / k80, 0.0416, 0.002);
  // Slower than the cells' injury above about 45 C: the collagen zone lies inside the zone of
  // cell death.
  for (double T : {323.15, 343.15, 373.15}) {
    EXPECT_LT(arrhenius_rate(T, t.collagen_a, t.collagen_ea),
              arrhenius_rate(T, t.arrhenius_a, t.arrhenius_ea))
        << T;
  }
  // The share of the zone's collagen denatured: between 0 and 1, rising with the energy.
  const auto skin = test::cheek_profile();
  const CoagulationZone z20 = coagulation_zone(pulse(20e-3, 0.05), skin);
  const CoagulationZone z40 = coagulation_zone(pulse(40e-3, 0.05), skin);
  ASSERT_TRUE(z20.coagulated());
  EXPECT_GT(z20.denatured, 0.0);
  EXPECT_LE(z40.denatured, 1.0);
  EXPECT_GT(z40.denatured, z20.denatured);
}

}  // namespace
