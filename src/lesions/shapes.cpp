#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/constants.hpp"
#include "lesions/lesion.hpp"

namespace mnsim::lesions {

namespace {
double mm(double m) {
  return m * 1e3;
}
}  // namespace

// --- Icepick ---------------------------------------------------------------------------------
Icepick::Icepick(double x, double y, double width, double depth, Effects e)
    : Lesion(e), x_(x), y_(y), r_(0.5 * width), d_(depth) {}

std::string Icepick::describe() const {
  return fmt::format("icepick {:.2f} mm wide, {:.2f} mm deep at ({:.2f}, {:.2f}) mm", mm(2 * r_),
                     mm(d_), mm(x_), mm(y_));
}

double Icepick::depression(double x, double y) const {
  const double r = std::hypot(x - x_, y - y_);
  return r < r_ ? d_ * (1.0 - r / r_) : 0.0;
}

double Icepick::volume() const {
  return kPi * r_ * r_ * d_ / 3.0;
}

Box Icepick::bounds() const {
  return {x_ - r_, y_ - r_, x_ + r_, y_ + r_};
}

// --- Boxcar ----------------------------------------------------------------------------------
Boxcar::Boxcar(double x, double y, double width, double depth, double wall_angle, Effects e)
    : Lesion(e), x_(x), y_(y), r_(0.5 * width), d_(depth), a_(wall_angle) {
  rf_ = std::max(0.0, r_ - d_ * std::tan(a_));
}

std::string Boxcar::describe() const {
  return fmt::format(
      "boxcar {:.2f} mm wide, {:.2f} mm deep ({}), walls {:.0f} deg from vertical, "
      "at ({:.2f}, {:.2f}) mm",
      mm(2 * r_), mm(d_), d_ < 0.5e-3 ? "shallow" : "deep", a_ * 180.0 / kPi, mm(x_), mm(y_));
}

double Boxcar::depression(double x, double y) const {
  const double r = std::hypot(x - x_, y - y_);
  if (r >= r_) return 0.0;
  if (r <= rf_) return d_;
  return d_ * (r_ - r) / (r_ - rf_);
}

double Boxcar::volume() const {
  // Truncated cone (frustum) of height d between radii rf (floor) and R (rim). When the walls
  // meet before the floor (rf clamped to 0) the shape is a cone of the reached depth.
  if (rf_ <= 0.0) return kPi * r_ * r_ * d_ / 3.0;
  return kPi * d_ * (r_ * r_ + r_ * rf_ + rf_ * rf_) / 3.0;
}

Box Boxcar::bounds() const {
  return {x_ - r_, y_ - r_, x_ + r_, y_ + r_};
}

// --- Rolling ---------------------------------------------------------------------------------
Rolling::Rolling(double x, double y, double width, double depth, bool tether, Effects e)
    : Lesion(e), x_(x), y_(y), r_(0.5 * width), d_(depth), tether_(tether) {}

std::string Rolling::describe() const {
  return fmt::format("rolling {:.2f} mm wide, {:.2f} mm deep{} at ({:.2f}, {:.2f}) mm", mm(2 * r_),
                     mm(d_), tether_ ? ", tethered" : "", mm(x_), mm(y_));
}

double Rolling::depression(double x, double y) const {
  const double r = std::hypot(x - x_, y - y_);
  return r < r_ ? 0.5 * d_ * (1.0 + std::cos(kPi * r / r_)) : 0.0;
}

double Rolling::volume() const {
  return kPi * d_ * r_ * r_ * (0.5 - 2.0 / (kPi * kPi));
}

Box Rolling::bounds() const {
  return {x_ - r_, y_ - r_, x_ + r_, y_ + r_};
}

bool Rolling::tethered(double x, double y) const {
  return tether_ && effects().tether_radius > 0.0 &&
         std::hypot(x - x_, y - y_) < effects().tether_radius;
}

// --- Linear ----------------------------------------------------------------------------------
Linear::Linear(Profile p, double x, double y, double length, double width, double depth,
               double angle, Effects e)
    : Lesion(e),
      profile_(p),
      x_(x),
      y_(y),
      len_(length),
      w_(width),
      d_(depth),
      angle_(angle),
      c_(std::cos(angle)),
      s_(std::sin(angle)) {}

std::string Linear::describe() const {
  return fmt::format(
      "{} {:.2f} mm long, {:.2f} mm wide, {:.3f} mm deep, at {:.0f} deg, centred "
      "at ({:.2f}, {:.2f}) mm",
      kind(), mm(len_), mm(w_), mm(d_), angle_ * 180.0 / kPi, mm(x_), mm(y_));
}

double Linear::depression(double x, double y) const {
  const double dx = x - x_, dy = y - y_;
  const double v = dx * c_ + dy * s_;   // along
  const double u = -dx * s_ + dy * c_;  // across
  if (std::abs(v) >= 0.5 * len_ || std::abs(u) >= 0.5 * w_) return 0.0;
  if (profile_ != Profile::Wrinkle) return 0.5 * d_ * (1.0 + std::cos(2.0 * kPi * u / w_));
  return d_ * (1.0 - 2.0 * std::abs(u) / w_);
}

double Linear::volume() const {
  return 0.5 * len_ * w_ * d_;
}

Box Linear::bounds() const {
  const double hx = 0.5 * (len_ * std::abs(c_) + w_ * std::abs(s_));
  const double hy = 0.5 * (len_ * std::abs(s_) + w_ * std::abs(c_));
  return {x_ - hx, y_ - hy, x_ + hx, y_ + hy};
}

}  // namespace mnsim::lesions
