// Where a slab of a face table (the faces of one plane or one row of columns, healing/diffusion.cpp
// and healing/chemotaxis.cpp) carries flux, so that the sweeps leave out the lines and cells
// whose systems are the identity (docs/numerics.md, "Transport kernels").
//
// A face table's slab holds face f of lane l at t[f * stride + l] (face f joins cells f and f + 1
// of line l; 0 where the face carries no flux). A line whose faces are all 0 has the identity as
// its matrix, and a cell whose two faces are 0 is its own 1 x 1 identity: the Thomas elimination
// leaves both as they are, and a line's elimination starting at a face after a zero one computes
// what it computes from the line's first cell. So sweeping only the lanes and cells of the
// smallest box holding every face with flux gives the same values.
#pragma once

#include <cstddef>

namespace mnsim::healing {

/// Lanes [lane_lo, lane_hi] and faces [face_lo, face_hi] of a slab holding every face with flux
/// (so cells face_lo..face_hi + 1 of each line); empty when no face carries flux.
struct FaceBox {
  int lane_lo = 0, lane_hi = -1, face_lo = 0, face_hi = -1;
  bool empty() const { return lane_lo > lane_hi; }
  /// Cells of a line in the box: face_lo..face_hi + 1.
  int cells() const { return face_hi + 2 - face_lo; }
  int lanes() const { return lane_hi + 1 - lane_lo; }
};

/// The box of the faces t[f * stride + l] != 0 for f in [0, nf), l in [0, nl).
template <class T>
FaceBox face_box(const T* t, std::ptrdiff_t stride, int nf, int nl) {
  FaceBox b{nl, -1, nf, -1};
  for (int f = 0; f < nf; ++f) {
    const T* row = t + f * stride;
    int lo = nl, hi = -1;
    for (int l = 0; l < nl; ++l) {
      if (row[l] != T{0}) {
        lo = l < lo ? l : lo;
        hi = l;
      }
    }
    if (hi < 0) continue;
    b.lane_lo = lo < b.lane_lo ? lo : b.lane_lo;
    b.lane_hi = hi > b.lane_hi ? hi : b.lane_hi;
    b.face_lo = f < b.face_lo ? f : b.face_lo;
    b.face_hi = f;
  }
  if (b.lane_hi < 0) return FaceBox{};
  return b;
}

}  // namespace mnsim::healing
