// Thomas algorithm for one tridiagonal system, in place (no pivoting: for diagonally dominant or
// M-matrix systems such as the implicit transport steps of the healing model).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace mnsim::healing {

/// Solves lower[i] x[i-1] + diag[i] x[i] + upper[i] x[i+1] = rhs[i] (lower[0], upper[n-1]
/// unused). Overwrites diag; the solution replaces rhs. All spans have the same length n >= 1.
inline void solve_tridiagonal(std::span<const double> lower, std::span<double> diag,
                              std::span<const double> upper, std::span<double> rhs) {
  const std::size_t n = rhs.size();
  for (std::size_t i = 1; i < n; ++i) {
    const double f = lower[i] / diag[i - 1];
    diag[i] -= f * upper[i - 1];
    rhs[i] -= f * rhs[i - 1];
  }
  rhs[n - 1] /= diag[n - 1];
  for (std::size_t i = n - 1; i-- > 0;) rhs[i] = (rhs[i] - upper[i] * rhs[i + 1]) / diag[i];
}

/// solve_tridiagonal split in two: the elimination of a matrix once (factor), then any number
/// of right-hand sides (solve), with the same arithmetic, so the results are identical.
struct TridiagonalFactor {
  std::vector<double> mult, diag, upper;
  void factor(std::span<const double> lo, std::span<const double> di, std::span<const double> up) {
    const std::size_t n = di.size();
    mult.assign(n, 0.0);
    diag.assign(di.begin(), di.end());
    upper.assign(up.begin(), up.end());
    for (std::size_t i = 1; i < n; ++i) {
      mult[i] = lo[i] / diag[i - 1];
      diag[i] -= mult[i] * upper[i - 1];
    }
  }
  /// rhs.size() must equal the factored size; the solution replaces rhs.
  void solve(std::span<double> rhs) const {
    const std::size_t n = rhs.size();
    for (std::size_t i = 1; i < n; ++i) rhs[i] -= mult[i] * rhs[i - 1];
    rhs[n - 1] /= diag[n - 1];
    for (std::size_t i = n - 1; i-- > 0;) rhs[i] = (rhs[i] - upper[i] * rhs[i + 1]) / diag[i];
  }
  /// solve() of this system on x and of `other` (of the same size) on y, in one pass: each sees
  /// solve()'s arithmetic (identical results), and the two chains of divisions overlap.
  void solve_pair(std::span<double> x, const TridiagonalFactor& other, std::span<double> y) const {
    const std::size_t n = x.size();
    const double *m0 = mult.data(), *m1 = other.mult.data();
    for (std::size_t i = 1; i < n; ++i) {
      x[i] -= m0[i] * x[i - 1];
      y[i] -= m1[i] * y[i - 1];
    }
    x[n - 1] /= diag[n - 1];
    y[n - 1] /= other.diag[n - 1];
    for (std::size_t i = n - 1; i-- > 0;) {
      x[i] = (x[i] - upper[i] * x[i + 1]) / diag[i];
      y[i] = (y[i] - other.upper[i] * y[i + 1]) / other.diag[i];
    }
  }
  /// solve() for m right-hand sides at once, interleaved: rhs[i * m + j] is row i of system j
  /// (n * m values, n the factored size). Each system sees solve()'s arithmetic (identical
  /// results); the independent systems fill the latency of the divisions. Always inlined, so that
  /// a multiversioned caller (core/kernel.hpp) gets it in its own instruction set.
  __attribute__((always_inline)) void solve_many(double* rhs, std::size_t m) const {
    const std::size_t n = diag.size();
    if (n == 0 || m == 0) return;
    for (std::size_t i = 1; i < n; ++i) {
      const double f = mult[i];
      double* r = rhs + i * m;
      const double* q = r - m;
      for (std::size_t j = 0; j < m; ++j) r[j] -= f * q[j];
    }
    {
      const double d = diag[n - 1];
      double* r = rhs + (n - 1) * m;
      for (std::size_t j = 0; j < m; ++j) r[j] /= d;
    }
    for (std::size_t i = n - 1; i-- > 0;) {
      const double u = upper[i], d = diag[i];
      double* r = rhs + i * m;
      const double* q = r + m;
      for (std::size_t j = 0; j < m; ++j) r[j] = (r[j] - u * q[j]) / d;
    }
  }
};

}  // namespace mnsim::healing
