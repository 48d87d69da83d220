#include "io/fields_h5.hpp"

#include <fmt/format.h>
#include <hdf5.h>

#include <stdexcept>

#include "core/error.hpp"
#include "io/files.hpp"

namespace mnsim::io {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void h5_fail(const fs::path& p, const std::string& what) {
  throw OutputError(fmt::format("cannot write {}: HDF5 {} failed", p.string(), what));
}

void write_1d(hid_t loc, const char* name, const std::vector<double>& v, const fs::path& p) {
  const hsize_t n = v.size();
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t ds =
      H5Dcreate2(loc, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) {
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    h5_fail(p, std::string("writing ") + name);
  }
  H5Dclose(ds);
  H5Sclose(space);
}

void string_attr(hid_t obj, const std::string& name, const std::string& value, const fs::path& p) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, value.empty() ? 1 : value.size());
  H5Tset_cset(type, H5T_CSET_UTF8);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  const std::string v = value.empty() ? std::string(1, '\0') : value;
  const herr_t st = a < 0 ? -1 : H5Awrite(a, type, v.data());
  if (a >= 0) H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
  if (st < 0) h5_fail(p, "attribute " + name);
}

}  // namespace

FieldsWriter::FieldsWriter(const fs::path& path, const grid::Grid& grid,
                           std::vector<std::string> fields)
    : path_(path), grid_(grid), fields_(std::move(fields)) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported as OutputError
  // The file is built in memory (HDF5's core driver, no backing store) and written to disk by
  // close() through write_file_atomic, the one writer every output shares: a full disk is one
  // OutputError there, never a failure inside HDF5's own file handling (which crashed at exit).
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || H5Pset_fapl_core(fapl, std::size_t{4} << 20, 0) < 0) {
    if (fapl >= 0) H5Pclose(fapl);
    h5_fail(path_, "file access settings");
  }
  file_ = H5Fcreate(path_.filename().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (file_ < 0) h5_fail(path_, "create");
  try {
    write_header();
  } catch (...) {
    H5Fclose(static_cast<hid_t>(file_));
    file_ = -1;
    throw;
  }
}

void FieldsWriter::write_header() {
  const hid_t g = H5Gcreate2(file_, "grid", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) h5_fail(path_, "group");
  std::vector<double> xf(static_cast<std::size_t>(grid_.nx) + 1),
      yf(static_cast<std::size_t>(grid_.ny) + 1), zf;
  for (int i = 0; i <= grid_.nx; ++i)
    xf[static_cast<std::size_t>(i)] = (grid_.i0 + i) * grid_.dx * 1e6;
  for (int j = 0; j <= grid_.ny; ++j)
    yf[static_cast<std::size_t>(j)] = (grid_.j0 + j) * grid_.dx * 1e6;
  for (double z : grid_.zf) zf.push_back(z * 1e6);
  try {
    write_1d(g, "x_faces", xf, path_);
    write_1d(g, "y_faces", yf, path_);
    write_1d(g, "z_faces", zf, path_);
  } catch (...) {
    H5Gclose(g);
    throw;
  }
  H5Gclose(g);
  const hid_t s = H5Gcreate2(file_, "snapshots", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (s < 0) h5_fail(path_, "group");
  H5Gclose(s);
  std::string names;
  for (const auto& f : fields_) names += (names.empty() ? "" : ",") + f;
  string_attr(file_, "mnsim_fields", names, path_);
}

FieldsWriter::~FieldsWriter() {
  if (file_ >= 0) H5Fclose(file_);  // in memory: nothing was written to disk
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
  snapshot_values(time_s, label, gather_interior(fs, fields_));
}

void FieldsWriter::snapshot_values(double time_s, const std::string& label,
                                   const std::vector<std::vector<float>>& values) {
  if (values.size() != fields_.size()) {
    throw std::logic_error("internal: snapshot values do not match the writer's fields");
  }
  for (const auto& v : values) {
    if (v.size() != grid_.cells()) throw std::logic_error("internal: snapshot of another grid");
  }
  const std::string gname = fmt::format("snapshots/{:06}", times_.size());
  const hid_t g = H5Gcreate2(file_, gname.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) h5_fail(path_, "snapshot group");
  const hid_t tspace = H5Screate(H5S_SCALAR);
  const hid_t ta = H5Acreate2(g, "time_s", H5T_NATIVE_DOUBLE, tspace, H5P_DEFAULT, H5P_DEFAULT);
  const herr_t tst = ta < 0 ? -1 : H5Awrite(ta, H5T_NATIVE_DOUBLE, &time_s);
  if (ta >= 0) H5Aclose(ta);
  H5Sclose(tspace);
  try {
    if (tst < 0) h5_fail(path_, "attribute time_s");
    string_attr(g, "label", label, path_);
  } catch (...) {
    H5Gclose(g);
    throw;
  }

  const grid::Grid& gr = grid_;
  const hsize_t dims[3] = {static_cast<hsize_t>(gr.nz), static_cast<hsize_t>(gr.ny),
                           static_cast<hsize_t>(gr.nx)};
  const hsize_t chunk[3] = {std::min<hsize_t>(dims[0], 16), std::min<hsize_t>(dims[1], 64),
                            std::min<hsize_t>(dims[2], 64)};
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    const std::string& name = fields_[f];
    const hid_t space = H5Screate_simple(3, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 3, chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
    const hid_t ds =
        H5Dcreate2(g, name.c_str(), H5T_NATIVE_FLOAT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    const herr_t st =
        ds < 0 ? -1
               : H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values[f].data());
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (st < 0) {
      H5Gclose(g);
      h5_fail(path_, "writing field " + name);
    }
  }
  H5Gclose(g);
  times_.push_back(time_s);
  labels_.push_back(label);
}

void FieldsWriter::close() {
  if (closed_) return;
  if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) h5_fail(path_, "flush");
  const ssize_t size = H5Fget_file_image(file_, nullptr, 0);
  if (size < 0) h5_fail(path_, "file image");
  std::string image(static_cast<std::size_t>(size), '\0');
  if (H5Fget_file_image(file_, image.data(), image.size()) != size) h5_fail(path_, "file image");
  H5Fclose(file_);
  file_ = -1;
  closed_ = true;
  write_file_atomic(path_, image);
  write_xdmf();
}

void FieldsWriter::write_xdmf() const {
  const std::string h5 = path_.filename().string();
  std::string x;
  x += "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n";
  x += "<Xdmf Version=\"3.0\">\n <Domain>\n";
  x += "  <Grid Name=\"mnsim\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
  for (std::size_t s = 0; s < times_.size(); ++s) {
    x += fmt::format("   <Grid Name=\"{}\" GridType=\"Uniform\">\n", labels_[s]);
    x += fmt::format("    <Time Value=\"{:.9g}\"/>\n", times_[s]);
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
      x += fmt::format("    <Attribute Name=\"{}\" AttributeType=\"Scalar\" Center=\"Cell\">\n", f);
      x += fmt::format(
          "     <DataItem Dimensions=\"{} {} {}\" NumberType=\"Float\" Precision=\"4\" "
          "Format=\"HDF\">{}:/snapshots/{:06}/{}</DataItem>\n",
          grid_.nz, grid_.ny, grid_.nx, h5, s, f);
      x += "    </Attribute>\n";
    }
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
