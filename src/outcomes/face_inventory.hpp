// The patient's whole-face scar inventory (a scenario's [face] section) and its grading from a
// simulated patch (docs/model.md "Goodman & Baron grading", "A whole-face inventory"). Goodman &
// Baron grade a face; `mnsim run` simulates a patch of it. With [face], each face class takes the
// mean relative depth change of the patch's scars of its kind (for a kind with several classes,
// boxcar: the patch scars of the same depth class if there are any, else all of the kind), and
// both grades are computed on the face inventory with the functions of
// outcomes/goodman_baron.hpp. A face class with no patch scar of its kind keeps its depth and is
// reported as not simulated. A class given without a depth has its scars spread over its depth
// range (lesions::spread_depth), as a real face has scars of many depths: with every scar of a
// class at one depth, a change that moves none of them across a grading limit moves no score.
#pragma once

#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"
#include "outcomes/goodman_baron.hpp"

namespace mnsim::outcomes {

/// One class of the face inventory: `count` scars of one geometry.
struct FaceClass {
  std::string cls;   // inventory class: icepick, boxcar_shallow, boxcar_deep, rolling
  std::string kind;  // the lesion kind that draws it (lesions::kind_of_class): icepick, boxcar, ...
  long long count = 0;
  double depth = 0.0;  // m, the mean depth of its scars (the middle of depth_min..depth_max)
  double depth_min = 0.0, depth_max = 0.0;  // m, their range: the class's, or depth when given
  double width = 0.0;                       // m
  bool depth_given = false, width_given = false;  // from [face.<class>]; else the mid-range
                                                  // width and depths spread over the range
  /// The depth of its i-th scar (0 <= i < count): lesions::spread_depth over its range.
  double depth_of(long long i) const;
};

/// The [face] section: the classes given with a count of at least 1, in inventory order.
struct FaceSpec {
  std::vector<FaceClass> classes;
  long long scars() const;
};

/// The inventory classes a face lists: those of graded kinds (acne scars; striae and wrinkles are
/// not graded), in lesions::inventory_classes() order.
std::vector<std::string> face_classes();

/// The [face] section of the scenario schema: a table [face.<class>] per face class, with
/// `count` (required), `depth` (default: spread over the class's depth range) and `width`
/// (default: the class's mid-range width).
schema::Key face_schema();

/// Reads a validated [face] table. InputError at `face` when no class has a scar.
FaceSpec read_face(const Table& face);

/// The inventory class of a patch scar of `kind` that is `depth` deep: the class of the kind
/// whose data/lesions.toml depth range [depth_min, depth_max) holds it, else the one whose range
/// is nearest (first on ties); "" for a kind without inventory classes.
std::string depth_class(const std::string& kind, double depth);

/// A scar of the simulated patch: its kind (as in summary.json `outcome.scars[].type`) and depth
/// before and after the course (m).
struct PatchScar {
  std::string kind;
  double depth_before = 0.0, depth_after = 0.0;
};

/// One face class after the mapping.
struct FaceClassOutcome {
  FaceClass face;
  double depth_after = 0.0;      // m
  double relative_change = 0.0;  // mean (after - before) / before of the patch scars used
  int patch_scars = 0;           // patch scars it was mapped from; 0: not simulated
  std::string patch_class;       // their depth class when matched, else "" (all of the kind)
  std::string how;               // "mapped from 2 patch scars of kind boxcar (...)", ...
  bool simulated() const { return patch_scars > 0; }
};

/// The face inventory mapped from the patch, and its scars before and after (count per class,
/// each at its own depth_of) for the grading functions.
struct FaceMapping {
  std::vector<FaceClassOutcome> classes;
  std::vector<ScarState> before, after;
};

/// Maps the patch scars' relative depth changes onto the face inventory (see the file comment).
/// Patch scars 0 deep before the course are skipped; a measured surface (kind "measured") is no
/// scar of any face class.
FaceMapping map_onto_face(const FaceSpec& face, const std::vector<PatchScar>& patch);

}  // namespace mnsim::outcomes
