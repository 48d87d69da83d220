// The [[application]]s of `mnsim run` (docs/substances.md): the channel lumen each session opens,
// the film on the skin after it (its concentration falling as the agent enters, drying when
// unoccluded), platelet-rich plasma filling the open channels, and the record of the delivered
// dose by depth and time (summary.json "substances"). The agents' fields and processes are the
// healing engine's (healing/substances.hpp); this drives them from the course's events.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "devices/device.hpp"
#include "devices/puncture.hpp"
#include "healing/channel_closure.hpp"
#include "healing/engine.hpp"
#include "healing/film.hpp"
#include "healing/substances.hpp"
#include "protocol/course.hpp"
#include "report/report.hpp"
#include "skin/profile.hpp"

namespace mnsim {

class ApplicationDriver {
 public:
  ApplicationDriver(std::vector<healing::Application> apps, const healing::SubstanceData& data,
                    const healing::Params& p, const skin::SkinProfile& profile);

  bool empty() const { return apps_.empty(); }
  /// The healing model with the applied agents' fields and processes (the healing model alone
  /// without applications). `dx` the lateral voxel size (m).
  healing::Model model(double dx) const;
  /// Finds the fields on the engine built with model().
  void attach(healing::Engine& engine);
  /// Schedules each application (an event after its session) and the film updates and records
  /// after it (stops). Returns the number of events and stops added.
  std::size_t schedule(healing::Stepper& stepper, const protocol::Course& course);
  /// After a session's punctures are deposited: the lumen they opened and their closure.
  void session(int index, double t, const devices::Punctures& punctures, double density_per_cm2,
               double fraction_bleeding, grid::FieldSet& fields);
  /// What a checkpoint keeps (run/checkpoint.hpp): every film, its records and the channels
  /// (their closure is computed again from their geometry). JSON numbers round-trip exactly.
  nlohmann::json state() const;
  /// Restores state() on a driver scheduled on the same course (throws std::exception when it
  /// does not fit).
  void restore(const nlohmann::json& j);
  /// summary.json "substances".
  nlohmann::json summary() const;
  /// The report's rows: each application's delivered dose, and each session's channel closure.
  std::vector<report::OutcomeRow> report_rows() const;

 private:
  struct Record {
    double hours = 0.0;                                 // after the application
    double entered = 0.0, tissue = 0.0, cleared = 0.0;  // ug/cm^2 (ng/cm^2 for prp)
    double lumen = 0.0;                                 // ug/cm^2 still in the lumen's liquid
    double skin_route = 0.0;                            // ug/cm^2 in through the stratum corneum
    std::array<double, skin::kLayers> by_layer{};       // ug/cm^2 in each layer
    std::vector<double> profile;                        // ug/mL per z plane (empty: not kept)
  };
  // The film's course (healing/film.hpp, shared with the reduced model) and its records.
  struct Applied : healing::Film {
    std::vector<Record> records;
  };
  void apply(Applied& a, double t, grid::FieldSet& fields);
  void update(double t);
  /// Agent s in tissue + lumen + cleared, ug/cm^2.
  double accounted(std::size_t s) const;
  void record(Applied& a, double t, bool profile);
  /// Sum over the grid of field f x cell volume, per layer, in per-area units (x / cm^2).
  std::array<double, skin::kLayers> per_area(const grid::FieldSet& fields, int f) const;
  /// Volume (m^3) of the open channel lumen (`open` of it) in the voxels of layer index
  /// `first_layer` and deeper.
  double open_lumen_volume(const grid::FieldSet& fields, double open, int first_layer) const;
  /// The closure of a session's channels (healing::close_channels; none without a mouth): the
  /// same for a session and for one restored from a checkpoint.
  healing::ChannelHealing closure_of(const healing::ChannelGeometry& geo) const;

  std::vector<healing::Application> apps_;
  const healing::SubstanceData& data_;
  healing::Params p_;
  const skin::SkinProfile& profile_;
  std::shared_ptr<healing::SubstanceDrive> drive_ = std::make_shared<healing::SubstanceDrive>();
  std::vector<std::string> solutes_;
  healing::Engine* engine_ = nullptr;
  int lumen_ = -1, platelets_ = -1, prp_ = -1;
  std::vector<int> conc_, lumen_agent_, liquid_, entered_, cleared_;  // per solute
  std::vector<double> kp_;                                            // um/h per solute
  std::vector<Applied> applied_;
  healing::ChannelBook channels_;
};

}  // namespace mnsim
