// Lesions of the skin surface: atrophic acne scars (icepick, boxcar, rolling), striae, fine
// wrinkles, and measured surfaces imported from height maps.
//
// A lesion is a local depression of the surface (depth >= 0 below the unlesioned surface plane,
// as a function of (x, y) on the patch) plus a dermal deficit beneath its footprint: less collagen
// (collagen_deficit) and disorganised collagen (disorder). Rolling scars also carry tethering
// bands: columns of dense collagen from the scar floor into the subcutis.
// Coordinates: metres, x across the patch width, y along its length, origin at a patch corner.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mnsim::lesions {

/// Axis-aligned bounding box of a lesion's footprint (m).
struct Box {
  double x0 = 0.0, y0 = 0.0, x1 = 0.0, y1 = 0.0;
};

/// Dermal changes under a lesion (fractions 0..1) and tethering-band parameters.
struct Effects {
  double collagen_deficit = 0.0;        // fraction of collagen I/III and elastin missing
  double disorder = 0.0;                // collagen_order = 1 - disorder
  double tether_radius = 0.0;           // m; 0 = no band
  double tether_depth = 0.0;            // m below the bottom of the dermis the band reaches
  double tether_collagen_factor = 1.0;  // band collagen I relative to reticular baseline
};

class Lesion {
 public:
  explicit Lesion(Effects e) : effects_(e) {}
  virtual ~Lesion() = default;

  /// Its registered kind's name (lesions/registry.hpp): "icepick", "boxcar", ..., "measured".
  virtual std::string_view kind() const = 0;
  /// One line with the geometry, e.g. "boxcar 2.50 mm wide, 0.30 mm deep (shallow) at (3, 4) mm".
  virtual std::string describe() const = 0;
  /// Depth of the surface depression at (x, y), m (>= 0, 0 outside the lesion).
  virtual double depression(double x, double y) const = 0;
  /// Analytic volume of the depression, m^3.
  virtual double volume() const = 0;
  /// Deepest point of the depression, m.
  virtual double max_depth() const = 0;
  virtual Box bounds() const = 0;
  /// Whether (x, y) lies under the lesion (where the dermal deficit applies).
  virtual bool covers(double x, double y) const { return depression(x, y) > 0.0; }
  /// Whether (x, y) lies in a tethering band.
  virtual bool tethered(double /*x*/, double /*y*/) const { return false; }
  /// The width across the axis of a linear lesion, m (0: not linear; the footprint gives it).
  virtual double width_across() const { return 0.0; }

  const Effects& effects() const { return effects_; }

 private:
  Effects effects_;
};

using LesionPtr = std::shared_ptr<const Lesion>;
using Lesions = std::vector<LesionPtr>;

/// Round scars. Center (x, y), surface width (diameter) w, depth d.
/// Icepick: a cone, depth d (1 - r/R); volume pi R^2 d / 3.
class Icepick final : public Lesion {
 public:
  Icepick(double x, double y, double width, double depth, Effects e);
  std::string_view kind() const override { return "icepick"; }
  std::string describe() const override;
  double depression(double x, double y) const override;
  double volume() const override;
  double max_depth() const override { return d_; }
  Box bounds() const override;

 private:
  double x_, y_, r_, d_;
};

/// Boxcar: flat floor of radius R - d tan(a), straight walls at angle a from the vertical up to
/// the rim radius R; volume of the truncated cone pi d (R^2 + R r + r^2) / 3.
class Boxcar final : public Lesion {
 public:
  Boxcar(double x, double y, double width, double depth, double wall_angle, Effects e);
  std::string_view kind() const override { return "boxcar"; }
  std::string describe() const override;
  double depression(double x, double y) const override;
  double volume() const override;
  double max_depth() const override { return d_; }
  Box bounds() const override;
  double floor_radius() const { return rf_; }

 private:
  double x_, y_, r_, d_, a_, rf_;
};

/// Rolling: raised cosine d (1 + cos(pi r / R)) / 2; volume pi d R^2 (1/2 - 2/pi^2). A tethering
/// band of radius effects().tether_radius at the centre when `tether`.
class Rolling final : public Lesion {
 public:
  Rolling(double x, double y, double width, double depth, bool tether, Effects e);
  std::string_view kind() const override { return "rolling"; }
  std::string describe() const override;
  double depression(double x, double y) const override;
  double volume() const override;
  double max_depth() const override { return d_; }
  Box bounds() const override;
  bool tethered(double x, double y) const override;

 private:
  double x_, y_, r_, d_;
  bool tether_;
};

/// Linear lesions: centre (x, y), length L along direction `angle` (rad from +x), width W across.
/// Striae: raised cosine across, d (1 + cos(2 pi u / W)) / 2, uniform along; volume L W d / 2.
/// Wrinkle: V across, d (1 - 2|u| / W); volume L W d / 2.
/// Linear scar (surgical or traumatic): the raised cosine of striae.
class Linear final : public Lesion {
 public:
  enum class Profile { Striae, Wrinkle, LinearScar };
  Linear(Profile p, double x, double y, double length, double width, double depth, double angle,
         Effects e);
  std::string_view kind() const override {
    switch (profile_) {
      case Profile::Striae:
        return "striae";
      case Profile::Wrinkle:
        return "wrinkle";
      case Profile::LinearScar:
        break;
    }
    return "linear_scar";
  }
  std::string describe() const override;
  double depression(double x, double y) const override;
  double volume() const override;
  double max_depth() const override { return d_; }
  Box bounds() const override;
  double width_across() const override { return w_; }

 private:
  Profile profile_;
  double x_, y_, len_, w_, d_, angle_, c_, s_;
};

}  // namespace mnsim::lesions
