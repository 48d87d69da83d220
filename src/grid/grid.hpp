// The simulation grid: a rectangular skin patch, x and y across the surface (uniform spacing),
// z downward from the top of the patch (non-uniform spacing, so that layer interfaces of the
// unlesioned skin fall exactly on cell faces).
//
// Storage (FieldSet) is separate from access (FieldView): kernels get non-owning views. Every
// field is a contiguous float32 array with `ghost` layers on each side in x, y and z, x fastest.
// A grid describes its own box in global index space (i0, j0) so that it can later be split into
// slabs across MPI ranks without changing kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mnsim::grid {

/// Geometry of the patch. Lengths in metres.
struct Grid {
  int nx = 0, ny = 0, nz = 0;  // interior cells
  int ghost = 1;               // ghost layers on every side
  double dx = 0.0;             // spacing in x and y
  std::vector<double> zf;      // nz+1 cell faces in z, zf[0] = 0 (top), increasing downward
  int i0 = 0, j0 = 0;          // offset of this box in the global grid (for a future MPI split)

  /// Uniform grid helper (tests, benchmarks).
  static Grid uniform(int nx, int ny, int nz, double dx, int ghost = 1);

  double dz(int k) const {
    return zf[static_cast<std::size_t>(k) + 1] - zf[static_cast<std::size_t>(k)];
  }
  double zc(int k) const {
    return 0.5 * (zf[static_cast<std::size_t>(k)] + zf[static_cast<std::size_t>(k) + 1]);
  }
  double xc(int i) const { return (i0 + i + 0.5) * dx; }
  double yc(int j) const { return (j0 + j + 0.5) * dx; }
  double width() const { return nx * dx; }
  double length() const { return ny * dx; }
  double depth() const { return zf.back(); }

  // Padded extents and strides (x fastest).
  std::ptrdiff_t px() const { return nx + 2 * ghost; }
  std::ptrdiff_t py() const { return ny + 2 * ghost; }
  std::ptrdiff_t pz() const { return nz + 2 * ghost; }
  std::ptrdiff_t sy() const { return px(); }
  std::ptrdiff_t sz() const { return px() * py(); }
  std::size_t padded_size() const { return static_cast<std::size_t>(px() * py() * pz()); }
  std::size_t cells() const {
    return static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny) *
           static_cast<std::size_t>(nz);
  }
  /// Offset of interior cell (i, j, k) in a padded array; ghosts are at -ghost..-1 and
  /// n..n+ghost-1.
  std::ptrdiff_t at(int i, int j, int k) const {
    return (i + ghost) + (j + ghost) * sy() + (k + ghost) * sz();
  }
  /// Index of the cell containing depth z (clamped).
  int k_of_depth(double z) const;
};

/// Non-owning view of one field on a grid. Cheap to copy; kernels take these.
struct FieldView {
  float* data = nullptr;
  const Grid* grid = nullptr;
  float& operator()(int i, int j, int k) const { return data[grid->at(i, j, k)]; }
};

struct ConstFieldView {
  const float* data = nullptr;
  const Grid* grid = nullptr;
  ConstFieldView() = default;
  ConstFieldView(const float* d, const Grid* g) : data(d), grid(g) {}
  ConstFieldView(FieldView v) : data(v.data), grid(v.grid) {}  // NOLINT: implicit by design
  float operator()(int i, int j, int k) const { return data[grid->at(i, j, k)]; }
};

/// 64-byte aligned float buffer.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t n, float fill = 0.0f);
  float* data() { return ptr_.get(); }
  const float* data() const { return ptr_.get(); }
  std::size_t size() const { return n_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, Free> ptr_;
  std::size_t n_ = 0;
};

/// Owns named float32 fields on one grid (structure of arrays).
class FieldSet {
 public:
  explicit FieldSet(Grid g) : grid_(std::move(g)) {}
  const Grid& grid() const { return grid_; }

  /// Adds a field (zero-filled, ghosts included) and returns its index.
  int add(const std::string& name, float fill = 0.0f);
  int index(const std::string& name) const;  // -1 if absent
  const std::string& name(int id) const { return names_[static_cast<std::size_t>(id)]; }
  int size() const { return static_cast<int>(names_.size()); }

  FieldView view(int id) { return {buffers_[static_cast<std::size_t>(id)].data(), &grid_}; }
  ConstFieldView view(int id) const {
    return {buffers_[static_cast<std::size_t>(id)].data(), &grid_};
  }
  FieldView view(const std::string& n) { return view(require(n)); }
  ConstFieldView view(const std::string& n) const { return view(require(n)); }

  /// Bytes held by all fields.
  std::size_t bytes() const;

  /// Exchanges field `id`'s storage with `b` (of the padded size; std::invalid_argument
  /// otherwise). Views of the field taken before point to `b`'s storage afterwards.
  void swap_buffer(int id, AlignedBuffer& b);

 private:
  int require(const std::string& n) const;
  Grid grid_;
  std::vector<std::string> names_;
  std::vector<AlignedBuffer> buffers_;
};

/// Copies interior boundary values into ghost cells (zero-flux / Neumann on every face).
void fill_ghosts_neumann(FieldView f);

}  // namespace mnsim::grid
