#include "io/fields_h5.hpp"

#include <fmt/format.h>
#include <hdf5.h>
#include <zlib.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include "core/constants.hpp"
#include "core/error.hpp"
#include "io/files.hpp"

namespace mnsim::io {

namespace fs = std::filesystem;

namespace {

constexpr int kFormatVersion = 2;
constexpr double kSameTime = 1e-3;  // s: snapshots this close share a time

/// The system error (errno) behind the HDF5 call that just failed, 0 if none: the file driver
/// records it in the error stack's description ("... errno = 28, error message = ..."). Must be
/// called before the next HDF5 call, which clears the stack.
int h5_errno() {
  int found = 0;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        const char* at = e->desc ? std::strstr(e->desc, "errno = ") : nullptr;
        if (at && *static_cast<int*>(out) == 0) {
          *static_cast<int*>(out) = static_cast<int>(std::strtol(at + 8, nullptr, 10));
        }
        return 0;
      },
      &found);
  return found;
}

/// OutputError for a failed HDF5 call: the system error behind it when there is one (`err`:
/// h5_errno() taken right after the call), as every writer reports it ("cannot write FILE: write
/// (No space left on device)", io::fail_write), else the HDF5 operation.
[[noreturn]] void h5_fail(const fs::path& p, const std::string& what, int err = 0) {
  if (err > 0) fail_write(p, "write", err);
  throw OutputError(fmt::format("cannot write {}: HDF5 {} failed", p.string(), what));
}

void string_attr(hid_t obj, const std::string& name, const std::string& value, const fs::path& p) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, value.empty() ? 1 : value.size());
  H5Tset_cset(type, H5T_CSET_UTF8);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  const std::string v = value.empty() ? std::string(1, '\0') : value;
  const herr_t st = a < 0 ? -1 : H5Awrite(a, type, v.data());
  const int err = st < 0 ? h5_errno() : 0;
  if (a >= 0) H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
  if (st < 0) h5_fail(p, "attribute " + name, err);
}

/// A numeric attribute: one value (n = 1, scalar) or a vector of n.
void number_attr(hid_t obj, const char* name, hid_t type, const void* values, hsize_t n,
                 const fs::path& p) {
  const hid_t space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  const hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  const herr_t st = a < 0 ? -1 : H5Awrite(a, type, values);
  const int err = st < 0 ? h5_errno() : 0;
  if (a >= 0) H5Aclose(a);
  H5Sclose(space);
  if (st < 0) h5_fail(p, std::string("attribute ") + name, err);
}

/// Closes a dataset when it goes out of scope.
struct OpenDataset {
  hid_t id;
  ~OpenDataset() { H5Dclose(id); }
};

constexpr int kDeflateLevel = 4;

/// Chunks of a rank-3 dataset along each dimension (`dims` and `chunk` in elements).
std::array<hsize_t, 3> chunk_counts(const hsize_t* dims, const hsize_t* chunk) {
  std::array<hsize_t, 3> count{};
  for (int d = 0; d < 3; ++d) count[d] = (dims[d] + chunk[d] - 1) / chunk[d];
  return count;
}

/// Chunk q's index along each dimension, chunks in row-major order.
std::array<hsize_t, 3> chunk_index(hsize_t q, const std::array<hsize_t, 3>& count) {
  return {q / (count[1] * count[2]), q / count[2] % count[1], q % count[2]};
}

/// The chunks of a rank-3 dataset of `size`-byte elements (row-major, `dims` and `chunk` in
/// elements) as the dataset's filters store them: each chunk's elements (an edge chunk padded
/// with the fill value 0), shuffled (byte j of element i at j n + i, HDF5's shuffle filter) and
/// deflated (zlib's compress2 at kDeflateLevel, HDF5's deflate filter). Compressed on all
/// threads (deflate is most of writing fields.h5), one chunk per task; empty on a zlib failure.
std::vector<std::vector<unsigned char>> filtered_chunks(const hsize_t* dims, const hsize_t* chunk,
                                                        std::size_t size, const void* data) {
  const std::array<hsize_t, 3> count = chunk_counts(dims, chunk);
  const auto total = static_cast<std::ptrdiff_t>(count[0] * count[1] * count[2]);
  const std::size_t n = chunk[0] * chunk[1] * chunk[2];
  std::vector<std::vector<unsigned char>> out(static_cast<std::size_t>(total));
  const auto* src = static_cast<const unsigned char*>(data);
  bool failed = false;
#pragma omp parallel reduction(|| : failed)
  {
    std::vector<unsigned char> raw, shuffled;
    try {  // no exception may leave the region: a failure falls back to H5Dwrite
      raw.resize(n * size);
      shuffled.resize(n * size);
    } catch (const std::bad_alloc&) {
      failed = true;
    }
#pragma omp for schedule(dynamic, 1)
    for (std::ptrdiff_t q = 0; q < total; ++q) {
      if (failed) continue;
      const auto [c0, c1, c2] = chunk_index(static_cast<hsize_t>(q), count);
      std::fill(raw.begin(), raw.end(), static_cast<unsigned char>(0));
      const hsize_t row = std::min(chunk[2], dims[2] - c2 * chunk[2]) * size;
      for (hsize_t a = 0; a < chunk[0] && c0 * chunk[0] + a < dims[0]; ++a)
        for (hsize_t b = 0; b < chunk[1] && c1 * chunk[1] + b < dims[1]; ++b) {
          const hsize_t from =
              ((c0 * chunk[0] + a) * dims[1] + c1 * chunk[1] + b) * dims[2] + c2 * chunk[2];
          std::memcpy(raw.data() + (a * chunk[1] + b) * chunk[2] * size, src + from * size, row);
        }
      const unsigned char* in = raw.data();
      if (size > 1) {
        for (std::size_t j = 0; j < size; ++j)
          for (std::size_t i = 0; i < n; ++i) shuffled[j * n + i] = raw[i * size + j];
        in = shuffled.data();
      }
      std::vector<unsigned char>& z = out[static_cast<std::size_t>(q)];
      try {
        uLongf len = compressBound(static_cast<uLong>(n * size));
        z.resize(len);
        failed = failed ||
                 compress2(z.data(), &len, in, static_cast<uLong>(n * size), kDeflateLevel) != Z_OK;
        z.resize(len);
        z.shrink_to_fit();  // a dataset's chunks are held until written: their size, no more
      } catch (const std::bad_alloc&) {
        failed = true;
      }
    }
  }
  if (failed) out.clear();
  return out;
}

/// Writes the whole of a chunked rank-3 dataset: its chunks filtered on all threads
/// (filtered_chunks) and written in chunk order (H5Dwrite_chunk), the bytes H5Dwrite through
/// the same filters writes; H5Dwrite itself if zlib fails.
herr_t write_chunked(hid_t ds, hid_t type, const hsize_t* dims, const hsize_t* chunk,
                     const void* data) {
  const std::size_t size = H5Tget_size(type);
  const std::vector<std::vector<unsigned char>> z = filtered_chunks(dims, chunk, size, data);
  if (z.empty()) return H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  const std::array<hsize_t, 3> count = chunk_counts(dims, chunk);
  for (std::size_t q = 0; q < z.size(); ++q) {
    const std::array<hsize_t, 3> c = chunk_index(q, count);
    const hsize_t offset[3] = {c[0] * chunk[0], c[1] * chunk[1], c[2] * chunk[2]};
    if (H5Dwrite_chunk(ds, H5P_DEFAULT, 0, offset, z[q].size(), z[q].data()) < 0) return -1;
  }
  return 0;
}

/// Writes a dataset (rank 1 or 3, chunked and compressed when rank 3) with a `units` attribute.
/// Returns the open dataset for further attributes; the caller closes it.
hid_t write_dataset(hid_t loc, const std::string& name, hid_t type, int rank, const hsize_t* dims,
                    const void* data, const std::string& units, const fs::path& p) {
  const hid_t space = H5Screate_simple(rank, dims, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  // The chunk shape of a rank-3 dataset (dims has `rank` entries: a rank-1 one has no chunks).
  hsize_t chunk[3] = {1, 1, 1};
  if (rank == 3) {
    // At most 16 x 64 x 64 elements, as even as the dimension allows: as many chunks as that
    // limit needs, each ceil(dim / chunks) long, so an edge chunk is not mostly the fill value
    // (18 x 100 x 100 cells: 9 x 50 x 50, where 16 x 64 x 64 chunks padded them to 2.9 times the
    // data, all of it shuffled and deflated).
    const hsize_t most[3] = {16, 64, 64};
    for (int d = 0; d < 3; ++d) {
      const hsize_t n = std::max<hsize_t>(1, (dims[d] + most[d] - 1) / most[d]);
      chunk[d] = std::max<hsize_t>(1, (dims[d] + n - 1) / n);
    }
    H5Pset_chunk(dcpl, 3, chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, kDeflateLevel);
  }
  const hid_t ds = H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  const herr_t st = ds < 0      ? -1
                    : rank == 3 ? write_chunked(ds, type, dims, chunk, data)
                                : H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  const int err = st < 0 ? h5_errno() : 0;
  H5Pclose(dcpl);
  H5Sclose(space);
  if (st < 0) {
    if (ds >= 0) H5Dclose(ds);
    h5_fail(p, "writing " + name, err);
  }
  try {
    string_attr(ds, "units", units, p);
  } catch (...) {
    H5Dclose(ds);
    throw;
  }
  return ds;
}

/// Values in gather_interior order (k from the top) with k reversed, as stored: k = 0 the
/// deepest cells, so that z (height) increases with k.
template <class T>
std::vector<T> upward(const std::vector<T>& v, const grid::Grid& g) {
  const std::size_t plane = static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny);
  const std::size_t nz = static_cast<std::size_t>(g.nz);
  std::vector<T> out(v.size());
  for (std::size_t k = 0; k < nz; ++k) {
    std::copy_n(v.begin() + static_cast<std::ptrdiff_t>(k * plane), plane,
                out.begin() + static_cast<std::ptrdiff_t>((nz - 1 - k) * plane));
  }
  return out;
}

}  // namespace

std::vector<double> xdmf_times(const std::vector<double>& times_s) {
  const std::size_t n = times_s.size();
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n;) {
    // The snapshots [i, j) share a simulated time (within kSameTime of the one before).
    std::size_t j = i + 1;
    while (j < n && times_s[j] - times_s[j - 1] < kSameTime) ++j;
    const double t = times_s[j - 1];
    const std::size_t m = j - i;
    double step = kMinute;
    if (i > 0 && m > 1) step = std::min(step, (t - times_s[i - 1]) / static_cast<double>(m));
    for (std::size_t q = i; q < j; ++q) {
      out[q] = (t - static_cast<double>(j - 1 - q) * step) / kDay;
    }
    i = j;
  }
  return out;
}

FieldsWriter::FieldsWriter(const fs::path& path, const grid::Grid& grid,
                           std::vector<StoredField> fields, CellLayers layers)
    : path_(path), grid_(grid), fields_(std::move(fields)), layers_(std::move(layers)) {
  if (layers_.value.size() != grid_.cells() || layers_.names.empty()) {
    throw std::logic_error("internal: the cell layers do not match the grid");
  }
  stored_layer_ = upward(layers_.value, grid_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported as OutputError
  // The file is written to disk as it is built (HDF5's default driver, sec2) under a temporary
  // name beside `path` (io::temporary_name: unique, so runs in one process can each write their
  // fields.h5 at once) and renamed into place by close() (io::install_temporary, as every output
  // is written), so a reader never sees a half-written file and memory holds one snapshot, not
  // the whole file. A failed write (a full disk) is one OutputError; the temporary file is then
  // emptied, closed and removed (abandon).
  tmp_ = temporary_name(path_);
  fail_after_ = injected_write_limit(path_);
  // No file locks: the temporary file is this writer's alone, and HDF5's flock fails on some
  // network file systems.
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || H5Pset_file_locking(fapl, false, true) < 0) {
    if (fapl >= 0) H5Pclose(fapl);
    h5_fail(path_, "file access settings");
  }
  file_ = H5Fcreate(tmp_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl);
  const int create_err = file_ < 0 ? h5_errno() : 0;
  H5Pclose(fapl);
  if (file_ < 0) {
    ::unlink(tmp_.c_str());
    h5_fail(path_, "create", create_err);
  }
  try {
    write_header();
    check_injected_limit();
  } catch (...) {
    abandon();
    throw;
  }
}

void FieldsWriter::check_injected_limit() const {
  hsize_t size = 0;
  if (fail_after_ != std::numeric_limits<std::size_t>::max() &&
      H5Fget_filesize(static_cast<hid_t>(file_), &size) >= 0 && size >= fail_after_) {
    fail_write(path_, "write", ENOSPC);
  }
}

void FieldsWriter::abandon() noexcept {
  if (file_ < 0) return;
  // Empty the file first: on a full disk its space comes back, so that HDF5 can write what it
  // still holds when it closes the file (an unwritable file left open crashed HDF5 at exit).
  hid_t fapl = H5Fget_access_plist(static_cast<hid_t>(file_));
  void* handle = nullptr;
  if (fapl >= 0 && H5Fget_vfd_handle(static_cast<hid_t>(file_), fapl, &handle) >= 0 && handle) {
    (void)!::ftruncate(*static_cast<int*>(handle), 0);
  }
  if (fapl >= 0) H5Pclose(fapl);
  H5Fclose(static_cast<hid_t>(file_));
  file_ = -1;
  ::unlink(tmp_.c_str());
}

void FieldsWriter::write_header() {
  number_attr(file_, "format_version", H5T_NATIVE_INT, &kFormatVersion, 1, path_);
  const hid_t g = H5Gcreate2(file_, "grid", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) h5_fail(path_, "group");
  std::vector<double> xf(static_cast<std::size_t>(grid_.nx) + 1),
      yf(static_cast<std::size_t>(grid_.ny) + 1), zf;
  for (int i = 0; i <= grid_.nx; ++i)
    xf[static_cast<std::size_t>(i)] = (grid_.i0 + i) * grid_.dx * 1e6;
  for (int j = 0; j <= grid_.ny; ++j)
    yf[static_cast<std::size_t>(j)] = (grid_.j0 + j) * grid_.dx * 1e6;
  // Heights: the deepest face first, the unlesioned surface plane (0) last.
  // (+ 0.0 turns the top face's -0 into 0.)
  for (auto z = grid_.zf.rbegin(); z != grid_.zf.rend(); ++z) zf.push_back(-*z * 1e6 + 0.0);
  try {
    for (const auto* axis : {&xf, &yf, &zf}) {
      const hsize_t n = axis->size();
      const char* name = axis == &xf ? "x_faces" : (axis == &yf ? "y_faces" : "z_faces");
      const OpenDataset ds{
          write_dataset(g, name, H5T_NATIVE_DOUBLE, 1, &n, axis->data(), "um", path_)};
      if (axis == &zf) string_attr(ds.id, "positive", "up", path_);
    }
    const hsize_t dims[3] = {static_cast<hsize_t>(grid_.nz), static_cast<hsize_t>(grid_.ny),
                             static_cast<hsize_t>(grid_.nx)};
    const OpenDataset ds{
        write_dataset(g, "layer", H5T_NATIVE_UINT8, 3, dims, stored_layer_.data(), "1", path_)};
    std::vector<std::uint8_t> flags(layers_.names.size());
    std::string meanings;
    for (std::size_t v = 0; v < flags.size(); ++v) {
      flags[v] = static_cast<std::uint8_t>(v);
      meanings += (v == 0 ? "" : " ") + layers_.names[v];
    }
    number_attr(ds.id, "flag_values", H5T_NATIVE_UINT8, flags.data(), flags.size(), path_);
    string_attr(ds.id, "flag_meanings", meanings, path_);
  } catch (...) {
    H5Gclose(g);
    throw;
  }
  H5Gclose(g);
  const hid_t s = H5Gcreate2(file_, "snapshots", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (s < 0) h5_fail(path_, "group");
  H5Gclose(s);
  std::string names;
  for (const auto& f : fields_) names += (names.empty() ? "" : ",") + f.name;
  string_attr(file_, "mnsim_fields", names, path_);
}

FieldsWriter::~FieldsWriter() {
  abandon();  // not closed (a failure mid-run): the temporary file is removed
}

void FieldsWriter::attribute(const std::string& name, const std::string& value) {
  string_attr(file_, name, value, path_);
}

std::vector<std::vector<float>> gather_interior(const grid::FieldSet& fs,
                                                const std::vector<std::string>& names) {
  const grid::Grid& gr = fs.grid();
  std::vector<std::vector<float>> values;
  for (const auto& name : names) {
    const grid::ConstFieldView v = fs.view(name);
    std::vector<float>& buf = values.emplace_back(gr.cells());
    std::size_t n = 0;
    for (int k = 0; k < gr.nz; ++k)
      for (int j = 0; j < gr.ny; ++j)
        for (int i = 0; i < gr.nx; ++i) buf[n++] = v(i, j, k);
  }
  return values;
}

void FieldsWriter::snapshot(double time_s, const std::string& label, const grid::FieldSet& fs) {
  std::vector<std::string> names;
  for (const auto& f : fields_) names.push_back(f.name);
  snapshot_values(time_s, label, gather_interior(fs, names));
}

void FieldsWriter::snapshot_values(double time_s, const std::string& label,
                                   const std::vector<std::vector<float>>& values) {
  if (values.size() != fields_.size()) {
    throw std::logic_error("internal: snapshot values do not match the writer's fields");
  }
  for (const auto& v : values) {
    if (v.size() != grid_.cells()) throw std::logic_error("internal: snapshot of another grid");
  }
  if (!times_.empty() && time_s < times_.back()) {
    throw std::logic_error("internal: snapshots out of time order");
  }
  if (file_ < 0) throw std::logic_error("internal: snapshot of a closed or failed fields file");
  const std::string gname = fmt::format("snapshots/{:06}", times_.size());
  const hid_t g = H5Gcreate2(file_, gname.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) h5_fail(path_, "snapshot group", h5_errno());
  try {
    number_attr(g, "time_s", H5T_NATIVE_DOUBLE, &time_s, 1, path_);
    const double days = time_s / kDay;
    number_attr(g, "time_days", H5T_NATIVE_DOUBLE, &days, 1, path_);
    string_attr(g, "label", label, path_);
    const hsize_t dims[3] = {static_cast<hsize_t>(grid_.nz), static_cast<hsize_t>(grid_.ny),
                             static_cast<hsize_t>(grid_.nx)};
    for (std::size_t f = 0; f < fields_.size(); ++f) {
      std::vector<float> stored = upward(values[f], grid_);
      for (std::size_t c = 0; c < stored.size(); ++c) {
        if (stored_layer_[c] == 0) stored[c] = std::numeric_limits<float>::quiet_NaN();
      }
      const OpenDataset ds{write_dataset(g, fields_[f].name, H5T_NATIVE_FLOAT, 3, dims,
                                         stored.data(), fields_[f].unit, path_)};
    }
  } catch (...) {
    H5Gclose(g);
    abandon();
    throw;
  }
  H5Gclose(g);
  times_.push_back(time_s);
  labels_.push_back(label);
  try {
    check_injected_limit();
  } catch (...) {
    abandon();
    throw;
  }
}

void FieldsWriter::close() {
  if (closed_) return;
  if (file_ < 0) throw std::logic_error("internal: closing a failed fields file");
  if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) {
    const int err = h5_errno();
    abandon();
    h5_fail(path_, "flush", err);
  }
  try {
    check_injected_limit();
  } catch (...) {
    abandon();
    throw;
  }
  if (H5Fclose(file_) < 0) {
    const int err = h5_errno();
    file_ = -1;
    ::unlink(tmp_.c_str());
    h5_fail(path_, "close", err);
  }
  file_ = -1;
  closed_ = true;
  install_temporary(tmp_, path_);  // fsync, rename, fsync of the folder
  write_xdmf();
}

namespace {

/// An XML attribute value: & < > " escaped.
std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

// One grid per snapshot in a temporal collection, each at its distinct time in days
// (xdmf_times). Xdmf has no units attribute: units are given as Information elements (kept by
// Xdmf readers, not shown by VTK) and in docs/outputs.md.
void FieldsWriter::write_xdmf() const {
  const std::string h5 = xml_escape(path_.filename().string());
  const std::vector<double> at = xdmf_times(times_);
  const std::string cells = fmt::format("{} {} {}", grid_.nz, grid_.ny, grid_.nx);
  std::string x;
  x += "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n";
  x += "<Xdmf Version=\"3.0\">\n <Domain>\n";
  x += "  <Grid Name=\"mnsim\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
  x += "   <Information Name=\"time_units\" Value=\"days\"/>\n";
  x += "   <Information Name=\"length_units\" Value=\"um\"/>\n";
  for (std::size_t s = 0; s < times_.size(); ++s) {
    x += fmt::format("   <Grid Name=\"{}\" GridType=\"Uniform\">\n", xml_escape(labels_[s]));
    x += fmt::format("    <Time Value=\"{:.15g}\"/>\n", at[s]);
    x += fmt::format("    <Topology TopologyType=\"3DRectMesh\" Dimensions=\"{} {} {}\"/>\n",
                     grid_.nz + 1, grid_.ny + 1, grid_.nx + 1);
    x += "    <Geometry GeometryType=\"VXVYVZ\">\n";
    for (const char* axis : {"x_faces", "y_faces", "z_faces"}) {
      const int n = axis[0] == 'x' ? grid_.nx + 1 : (axis[0] == 'y' ? grid_.ny + 1 : grid_.nz + 1);
      x += fmt::format(
          "     <DataItem Dimensions=\"{}\" NumberType=\"Float\" Precision=\"8\" "
          "Format=\"HDF\">{}:/grid/{}</DataItem>\n",
          n, h5, axis);
    }
    x += "    </Geometry>\n";
    for (const auto& f : fields_) {
      x += fmt::format("    <Attribute Name=\"{}\" AttributeType=\"Scalar\" Center=\"Cell\">\n",
                       f.name);
      x += fmt::format("     <Information Name=\"units\" Value=\"{}\"/>\n", xml_escape(f.unit));
      x += fmt::format(
          "     <DataItem Dimensions=\"{}\" NumberType=\"Float\" Precision=\"4\" "
          "Format=\"HDF\">{}:/snapshots/{:06}/{}</DataItem>\n",
          cells, h5, s, f.name);
      x += "    </Attribute>\n";
    }
    x += "    <Attribute Name=\"layer\" AttributeType=\"Scalar\" Center=\"Cell\">\n";
    x += "     <Information Name=\"units\" Value=\"1\"/>\n";
    x += fmt::format(
        "     <DataItem Dimensions=\"{}\" NumberType=\"UChar\" Precision=\"1\" "
        "Format=\"HDF\">{}:/grid/layer</DataItem>\n",
        cells, h5);
    x += "    </Attribute>\n";
    x += "    <Attribute Name=\"time_days\" AttributeType=\"Scalar\" Center=\"Grid\">\n";
    x += fmt::format(
        "     <DataItem Dimensions=\"1\" NumberType=\"Float\" Precision=\"8\" "
        "Format=\"XML\">{:.17g}</DataItem>\n",
        times_[s] / kDay);
    x += "    </Attribute>\n";
    x += "    <Attribute Name=\"snapshot\" AttributeType=\"Scalar\" Center=\"Grid\">\n";
    x += fmt::format(
        "     <DataItem Dimensions=\"1\" NumberType=\"Int\" Precision=\"4\" "
        "Format=\"XML\">{}</DataItem>\n",
        s);
    x += "    </Attribute>\n";
    x += "   </Grid>\n";
  }
  x += "  </Grid>\n </Domain>\n</Xdmf>\n";
  fs::path xmf = path_;
  xmf.replace_extension(".xmf");
  write_file_atomic(xmf, x);
}
std::vector<float> read_snapshot_field(const fs::path& path, int snapshot,
                                       const std::string& field) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) throw InputError({path.string(), 1, 1}, "(file)", "not an HDF5 file", "fields.h5");
  const std::string name = fmt::format("snapshots/{:06}/{}", snapshot, field);
  const hid_t ds = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
  if (ds < 0) {
    H5Fclose(f);
    throw InputError({path.string(), 1, 1}, name, "no such dataset", "an existing snapshot/field");
  }
  const hid_t space = H5Dget_space(ds);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<float> out(static_cast<std::size_t>(n));
  H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(f);
  return out;
}

}  // namespace mnsim::io
