#include "io/timeseries.hpp"

#include <fmt/format.h>

#include "core/constants.hpp"
#include "io/files.hpp"

namespace mnsim::io {

void TimeSeries::add(double t, const std::string& q, const std::string& layer, double v) {
  rows_.push_back({t, q, layer, v});
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
  std::string s = "time_s,time_days,quantity,layer,value\n";
  s.reserve(rows_.size() * 48 + s.size());
  for (const auto& r : rows_) {
    s += fmt::format("{:.9g},{:.6g},{},{},{:.9g}\n", r.t, r.t / kDay, r.quantity, r.layer, r.value);
  }
  write_file_atomic(path, s);
}

}  // namespace mnsim::io
