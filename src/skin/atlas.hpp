// The site atlas (data/sites.toml): layered skin by anatomical site, with age, sex and
// Fitzpatrick modifiers. make_profile() turns a site and a patient into a SkinProfile.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "io/data_file.hpp"
#include "skin/profile.hpp"

namespace mnsim::skin {

enum class Sex { Female, Male };
/// "female" / "male".
std::string_view sex_name(Sex s);

/// One site as written in the atlas (reference age, before modifiers). Every value keeps its
/// text, unit and source.
struct SiteEntry {
  std::string key;                              // "medial_cheek"
  std::string name;                             // "medial cheek"
  io::DataValue epidermis;                      // viable epidermis, sexes pooled, m
  io::DataValue stratum_corneum;                // m (site value or [defaults])
  io::DataValue dermis_female;                  // m
  io::DataValue dermis_male;                    // m
  io::DataValue papillary_fraction;             // of the dermis
  io::DataValue melanocyte_density;             // 1/m^2
  io::DataValue tension;                        // N/m
  std::array<io::DataValue, kLayers> youngs{};  // Pa, per tissue layer
  // Composition per tissue layer: collagen1, collagen3, elastin (kg/m^3), fibroblasts (1/m^3),
  // vascular (volume fraction).
  std::array<std::array<io::DataValue, 5>, kLayers> composition{};
};

/// Names of the five composition entries in data and field order.
inline constexpr std::array<const char*, 5> kCompositionKeys = {"collagen1", "collagen3", "elastin",
                                                                "fibroblasts", "vascular"};

/// Photoageing baseline of one Glogau type: factors on the dermal collagen I, collagen III and
/// elastin content ([modifiers.photoageing] of the atlas).
struct PhotoageingModifier {
  io::DataValue collagen1, collagen3, elastin;
};
/// Glogau photoageing types are 1..4; 0 stands for "not given" (the site's composition).
inline constexpr int kGlogauTypes = 4;

struct AgeModifier {
  io::DataValue reference_age;          // s
  io::DataValue epidermis_loss_male;    // fraction per decade
  io::DataValue epidermis_loss_female;  // fraction per decade
  io::DataValue dermis_loss;            // fraction per decade
  io::DataValue minimum_factor;         // lower bound of the thickness factor
};

class Atlas {
 public:
  /// Loads and validates an atlas file. Throws InputError (file:line:col, key) on bad data.
  static Atlas load(const std::string& path);

  const std::string& path() const { return path_; }
  /// Sites in file order.
  const std::vector<SiteEntry>& sites() const { return sites_; }
  std::vector<std::string> site_keys() const;
  /// nullptr if unknown.
  const SiteEntry* find(const std::string& key) const;

  const AgeModifier& age() const { return age_; }
  const io::DataValue& epidermis_male_factor() const { return male_epidermis_; }
  /// Relative melanocyte activity of Fitzpatrick type 1..6.
  const io::DataValue& fitzpatrick_activity(int type) const;
  /// The photoageing factors of Glogau type 1..4 (std::out_of_range otherwise).
  const PhotoageingModifier& photoageing(int glogau) const;
  /// Applies Glogau type `glogau` (1..4; 0: nothing) to the papillary and reticular dermis of `p`.
  void photoage(SkinProfile& p, int glogau) const;

  /// Thickness factor for age (years) applied to the viable epidermis (epidermis = true) or the
  /// dermis: max(minimum, 1 - loss_per_decade * (age - reference) / 10) for ages above the
  /// reference age, 1 below it.
  double age_factor(double age_years, Sex sex, bool epidermis) const;

  /// The skin at a site for a patient. `hypodermis` is the modelled hypodermis thickness (m).
  /// `glogau`: the photoageing baseline (photoage; 0: none).
  /// Throws std::out_of_range for an unknown site (scenario validation names sites first).
  SkinProfile make_profile(const std::string& site, double age_years, Sex sex, int fitzpatrick,
                           double hypodermis = 0.5e-3, int glogau = 0) const;

 private:
  std::string path_;
  std::vector<SiteEntry> sites_;
  AgeModifier age_;
  io::DataValue male_epidermis_;
  std::array<io::DataValue, 6> fitz_{};
  std::array<PhotoageingModifier, kGlogauTypes> photo_{};
};

/// Path of the atlas shipped with mnsim: sites.toml in the data folder (core/data_dir.hpp).
std::string default_atlas_path();
/// The shipped atlas, loaded once (immutable afterwards). Throws InputError if it is malformed.
const Atlas& default_atlas();

}  // namespace mnsim::skin
