// A tidy time series (one observation per row: time, quantity, layer, value, unit) written as CSV.
#pragma once

#include <filesystem>
#include <map>
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

  /// Adds one observation. `layer` may be empty (for whole-patch quantities).
  void add(double time_s, const std::string& quantity, const std::string& layer, double value);
  /// The unit of a quantity ("mg/mL", "1" for a dimensionless one), written in each of its rows.
  void set_unit(const std::string& quantity, std::string unit);
  std::size_t size() const { return rows_.size(); }
  /// Values of one quantity/layer in time order.
  std::vector<std::pair<double, double>> series(const std::string& quantity,
                                                const std::string& layer) const;
  /// Writes "time_s,time_days,quantity,layer,value,unit" atomically. Every quantity needs a unit
  /// (std::logic_error otherwise).
  void write_csv(const std::filesystem::path& path) const;

  /// Every observation in the order added (checkpoints save and restore them).
  const std::vector<Row>& rows() const { return rows_; }

 private:
  std::vector<Row> rows_;
  std::map<std::string, std::string> units_;
};

}  // namespace mnsim::io
