// Scar causes of cohort populations (data/causes.toml; docs/cohort.md, "Scar causes"): what each
// cause other than acne draws, a mean number of scars split over inventory classes. Acne is the
// population's own class means ([population.scars]) and is not in the file.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "io/data_file.hpp"

namespace mnsim::lesions {

/// The cause whose scars are the population's own [population.scars] means.
inline constexpr const char* kAcneCause = "acne";

struct ScarCause {
  std::string name;  // "varicella"
  std::string description;
  io::DataValue scars;  // mean number of scars of a patient (Poisson)
  /// Inventory classes (lesions::inventory_classes()) and their shares, by name.
  std::vector<std::pair<std::string, io::DataValue>> classes;
  /// The mean count of every inventory class, in lesions::inventory_classes() order.
  std::vector<double> class_means() const;
};

class ScarCauses {
 public:
  /// Loads and validates a cause data file: each table a cause (not "acne") with a description,
  /// `scars` and [<cause>.classes] of inventory classes whose shares sum to 1; InputError
  /// (file:line:col) otherwise.
  static ScarCauses load(const std::string& path);
  const std::string& path() const { return path_; }
  const std::vector<ScarCause>& causes() const { return causes_; }
  /// nullptr if unknown.
  const ScarCause* find(const std::string& name) const;

 private:
  std::string path_;
  std::vector<ScarCause> causes_;
};

/// causes.toml in the data folder (core/data_dir.hpp).
std::string default_cause_data_path();
/// The shipped causes, loaded once (immutable afterwards).
const ScarCauses& default_scar_causes();
/// Every cause a population may name: "acne", then the shipped file's, by name.
std::vector<std::string> scar_cause_names();

}  // namespace mnsim::lesions
