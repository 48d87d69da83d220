// A tidy time series (one observation per row: time, quantity, layer, value) written as CSV.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mnsim::io {

class TimeSeries {
 public:
  struct Row {
    double t;
    std::string quantity, layer;
    double value;
  };

  /// Adds one observation. `layer` may be empty (for whole-patch or per-scar quantities).
  void add(double time_s, const std::string& quantity, const std::string& layer, double value);
  std::size_t size() const { return rows_.size(); }
  /// Values of one quantity/layer in time order.
  std::vector<std::pair<double, double>> series(const std::string& quantity,
                                                const std::string& layer) const;
  /// Writes "time_s,time_days,quantity,layer,value" atomically.
  void write_csv(const std::filesystem::path& path) const;

  /// Every observation in the order added (checkpoints save and restore them).
  const std::vector<Row>& rows() const { return rows_; }

 private:
  std::vector<Row> rows_;
};

}  // namespace mnsim::io
