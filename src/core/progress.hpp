// How the library reports progress; the CLI decides how to show it (bar, log lines, nothing).
#pragma once

#include <string_view>

namespace mnsim {

class Progress {
 public:
  virtual ~Progress() = default;
  /// A new stage begins ("punctures", "healing", ...).
  virtual void stage(std::string_view name) = 0;
  /// Progress made, out of the total: simulated time in seconds for a run; the number of
  /// simulations done for a search (protocol::make_plan: protocols, then replicates).
  virtual void advance(double sim_time_s, double total_s) = 0;
  /// A notable event ("session 2 of 5", ...).
  virtual void note(std::string_view text) = 0;
};

/// Reports nothing.
class NullProgress final : public Progress {
 public:
  void stage(std::string_view) override {}
  void advance(double, double) override {}
  void note(std::string_view) override {}
};

}  // namespace mnsim
