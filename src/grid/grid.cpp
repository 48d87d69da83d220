#include "grid/grid.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <stdexcept>

namespace mnsim::grid {

Grid Grid::uniform(int nx, int ny, int nz, double dx, int ghost) {
  Grid g;
  g.nx = nx;
  g.ny = ny;
  g.nz = nz;
  g.ghost = ghost;
  g.dx = dx;
  g.zf.resize(static_cast<std::size_t>(nz) + 1);
  for (int k = 0; k <= nz; ++k) g.zf[static_cast<std::size_t>(k)] = k * dx;
  return g;
}

int Grid::k_of_depth(double z) const {
  if (z <= zf.front()) return 0;
  if (z >= zf.back()) return nz - 1;
  const auto it = std::upper_bound(zf.begin(), zf.end(), z);
  return std::clamp(static_cast<int>(it - zf.begin()) - 1, 0, nz - 1);
}

AlignedBuffer::AlignedBuffer(std::size_t n, float fill) : n_(n) {
  const std::size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
  if (!p) throw std::bad_alloc();
  ptr_.reset(static_cast<float*>(p));
  std::fill_n(ptr_.get(), n, fill);
}

void AlignedBuffer::Free::operator()(float* p) const {
  std::free(p);
}

int FieldSet::add(const std::string& name, float fill) {
  if (index(name) >= 0) throw std::logic_error("internal: field '" + name + "' added twice");
  names_.push_back(name);
  buffers_.emplace_back(grid_.padded_size(), fill);
  return static_cast<int>(names_.size()) - 1;
}

void FieldSet::swap_buffer(int id, AlignedBuffer& b) {
  if (id < 0 || id >= size() || b.size() != grid_.padded_size()) {
    throw std::invalid_argument("internal: swap_buffer needs a field id and a padded-size buffer");
  }
  std::swap(buffers_[static_cast<std::size_t>(id)], b);
}

int FieldSet::index(const std::string& name) const {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

int FieldSet::require(const std::string& name) const {
  const int id = index(name);
  if (id < 0) throw std::logic_error("internal: no field '" + name + "'");
  return id;
}

std::size_t FieldSet::bytes() const {
  std::size_t b = 0;
  for (const auto& buf : buffers_) b += buf.size() * sizeof(float);
  return b;
}

void fill_ghosts_neumann(FieldView f) {
  const Grid& g = *f.grid;
  const int G = g.ghost;
  // z faces (whole padded x-y planes), then y, then x; later passes fill edges and corners.
  for (int j = 0; j < g.ny; ++j) {
    for (int i = 0; i < g.nx; ++i) {
      for (int l = 1; l <= G; ++l) {
        f(i, j, -l) = f(i, j, std::min(l - 1, g.nz - 1));
        f(i, j, g.nz - 1 + l) = f(i, j, std::max(g.nz - l, 0));
      }
    }
  }
  for (int k = -G; k < g.nz + G; ++k) {
    for (int i = 0; i < g.nx; ++i) {
      for (int l = 1; l <= G; ++l) {
        f(i, -l, k) = f(i, std::min(l - 1, g.ny - 1), k);
        f(i, g.ny - 1 + l, k) = f(i, std::max(g.ny - l, 0), k);
      }
    }
  }
  for (int k = -G; k < g.nz + G; ++k) {
    for (int j = -G; j < g.ny + G; ++j) {
      for (int l = 1; l <= G; ++l) {
        f(-l, j, k) = f(std::min(l - 1, g.nx - 1), j, k);
        f(g.nx - 1 + l, j, k) = f(std::max(g.nx - l, 0), j, k);
      }
    }
  }
}

}  // namespace mnsim::grid
