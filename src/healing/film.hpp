// The film and channel bookkeeping of topical applications (docs/substances.md), shared by the 3D
// driver (run/applications.hpp) and the reduced model (healing/column_substances.hpp): when each
// application happens and how long its film stays wet, how much of the film drains into the open
// channel lumen and how much stays on the skin, the stratum-corneum route from the film while it
// is wet (its concentration falling by mass balance), the open fraction of the last session's
// channels, and the lumen a session's straight channels open in each layer.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <span>
#include <string>
#include <vector>

#include "healing/channel_closure.hpp"
#include "healing/params.hpp"
#include "healing/substances.hpp"
#include "skin/profile.hpp"

namespace mnsim::healing {

/// Film updates per wet period (the film's concentration is held over each).
inline constexpr int kFilmUpdates = 24;
/// Records after each application (h), besides the end of the wet period (depth profiles at
/// 0.25, 1 and 4 h and at the end of the wet period).
inline constexpr std::array<double, 9> kRecordHours{1.0 / 12.0, 0.25, 0.5,  1.0, 2.0,
                                                    4.0,        8.0,  24.0, 48.0};
/// Field x volume / area (working units x m) -> per cm^2 (ug/mL -> ug/cm^2, ng/mL -> ng/cm^2).
inline constexpr double kPerCm2 = 100.0;

/// A solute agent (a field of its own: tranexamic acid, minoxidil), not PRP or saline.
bool is_solute(const std::string& agent);

/// One application after one session: its film's course.
struct Film {
  std::size_t app = 0;      // index into the applications
  int session = 0;          // 0-based
  double t = 0.0;           // s, applied
  double wet = 0.0;         // s on the skin, wet
  double applied = 0.0;     // ug/cm^2 (ng/cm^2 growth factors for prp)
  double base = 0.0;        // ug/cm^2 of the agent in tissue, lumen and cleared before it
  double fill = 0.0;        // share of the open lumen the film fills
  double drained = 0.0;     // ug/cm^2 of the agent that drained into the open lumen
  double on_skin = 0.0;     // ug/cm^2 left on the skin as a film
  double skin_route = 0.0;  // ug/cm^2 taken up through the stratum corneum so far
  double last = 0.0;        // s, the film's last update
};

/// One Film per application and session it follows, applied before end_s (applications in
/// order, then sessions): session i starts at session_times_s[i] (s).
std::vector<Film> schedule_films(const std::vector<Application>& apps, const SubstanceData& d,
                                 std::span<const double> session_times_s, double end_s);

/// Pours the film f of application a at time t (s) over skin whose open lumen holds
/// `open_volume` (m^3 per m^2 of skin: below the stratum corneum for PRP, all of it for a
/// solute): sets applied, fill and, for a solute, on_skin (what does not drain) and last.
/// Returns the share of the film's volume that drained into the lumen.
double pour(Film& f, const Application& a, const SubstanceData& d, double t, double open_volume);

/// A wet film of application `app` takes its agent up through the stratum corneum at kp (um/h)
/// from the film's concentration c_film (ug/mL) held since its last update, up to t (s). While
/// the film is still wet at t, `c` becomes its concentration after (the applied concentration
/// times what is left of its film); a film not on the skin at t leaves `c` alone.
void advance_film(Film& f, const Application& app, double kp, double c_film, double t, double& c);

/// The channels of the sessions so far, as paths for what is applied.
class ChannelBook {
 public:
  struct Entry {
    int session = 0;
    double t = 0.0;  // s
    ChannelGeometry geometry;
    ChannelHealing closure;
    double lumen_mm3_per_cm2 = 0.0;
  };
  /// Session `session` at t (s) opened channels of this geometry closing as `closure`.
  void add(int session, double t, const ChannelGeometry& g, ChannelHealing closure,
           double lumen_mm3_per_cm2);
  /// Open fraction at t (s) of the last session's channels (the earlier ones are closed:
  /// sessions are days to weeks apart, channels close within hours to days); 0 before any.
  double open_at(double t) const;
  const std::vector<Entry>& entries() const { return entries_; }
  /// summary.json's "channels": per session, the mouth, the lattice, the clot, the lumen and the
  /// open fraction over 96 h.
  nlohmann::json summary() const;

 private:
  std::vector<Entry> entries_;
};

/// Lumen (m^3 per m^2 of skin) that one session's straight channels of radius r (m, after
/// recoil) reaching `depth` (m) at `density` per m^2 open in each layer: density x pi r^2 x the
/// part of [0, depth] in the layer (the 3D driver rasterises the same cylinders).
std::array<double, skin::kLayers> lumen_by_layer(const skin::SkinProfile& prof, double density,
                                                 double r, double depth);

}  // namespace mnsim::healing
