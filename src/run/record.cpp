#include "run/record.hpp"

#include <fmt/format.h>

namespace mnsim {

nlohmann::json to_json(const SessionRecord& s) {
  return {{"session", s.session},
          {"day", s.day},
          {"date", s.date},
          {"punctures", s.punctures},
          {"density_per_cm2", s.density_per_cm2},
          {"depth_um_mean", s.depth_um_mean},
          {"fraction_bleeding", s.fraction_bleeding},
          {"fraction_past_dermis", s.fraction_past_dermis},
          {"lumen_volume_mm3", s.lumen_volume_mm3},
          {"blood_volume_mm3", s.blood_volume_mm3}};
}

nlohmann::json sessions_json(const std::vector<SessionRecord>& sessions) {
  nlohmann::json log = nlohmann::json::array();
  for (const auto& s : sessions) log.push_back(to_json(s));
  return log;
}

SessionRecord session_from_json(const nlohmann::json& j) {
  SessionRecord s;
  s.session = j.at("session").get<int>();
  s.day = j.at("day").get<double>();
  s.date = j.at("date").get<std::string>();
  s.punctures = j.at("punctures").get<std::size_t>();
  s.density_per_cm2 = j.at("density_per_cm2").get<double>();
  s.depth_um_mean = j.at("depth_um_mean").get<double>();
  s.fraction_bleeding = j.at("fraction_bleeding").get<double>();
  s.fraction_past_dermis = j.at("fraction_past_dermis").get<double>();
  s.lumen_volume_mm3 = j.at("lumen_volume_mm3").get<double>();
  s.blood_volume_mm3 = j.at("blood_volume_mm3").get<double>();
  return s;
}

void RunRecord::add_punctures_csv(int session, const std::string& csv) {
  std::size_t pos = csv.find('\n');
  if (punctures_csv.empty()) punctures_csv = "session," + csv.substr(0, pos + 1);
  while (pos != std::string::npos && pos + 1 < csv.size()) {
    const std::size_t next = csv.find('\n', pos + 1);
    punctures_csv += fmt::format("{},", session);
    punctures_csv +=
        csv.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos);
    pos = next;
  }
}

}  // namespace mnsim
