#include "io/timeseries.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "core/constants.hpp"
#include "io/files.hpp"

namespace mnsim::io {

void TimeSeries::add(double t, const std::string& q, const std::string& layer, double v) {
  rows_.push_back({t, q, layer, v});
}

void TimeSeries::set_unit(const std::string& quantity, std::string unit) {
  units_[quantity] = std::move(unit);
}

std::vector<std::pair<double, double>> TimeSeries::series(const std::string& q,
                                                          const std::string& layer) const {
  std::vector<std::pair<double, double>> out;
  for (const auto& r : rows_) {
    if (r.quantity == q && r.layer == layer) out.emplace_back(r.t, r.value);
  }
  return out;
}

void TimeSeries::write_csv(const std::filesystem::path& path) const {
  std::string s = "time_s,time_days,quantity,layer,value,unit\n";
  s.reserve(rows_.size() * 56 + s.size());
  for (const auto& r : rows_) {
    const auto unit = units_.find(r.quantity);
    if (unit == units_.end()) {
      throw std::logic_error("internal: time series quantity '" + r.quantity + "' has no unit");
    }
    s += fmt::format("{:.9g},{:.6g},{},{},{:.9g},{}\n", r.t, r.t / kDay, r.quantity, r.layer,
                     r.value, unit->second);
  }
  write_file_atomic(path, s);
}

}  // namespace mnsim::io
