// Field snapshots in HDF5 with an XDMF sidecar that ParaView opens directly as a time series.
//
// Layout of FILE.h5:
//   /grid/x_faces, /grid/y_faces, /grid/z_faces   cell faces in um (z positive downward)
//   /snapshots/NNNNNN/<field>   float32 [nz][ny][nx], chunked and gzip-compressed; attrs time_s,
//                               label
//   root attributes: mnsim_scenario (resolved TOML), mnsim_run (JSON metadata), mnsim_fields
// The file is assembled in memory and written by close() with io::write_file_atomic (temporary
// name, fsync, rename), so a reader never sees a half-written file and a full disk is one
// OutputError; FILE.xmf is written the same way.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "grid/grid.hpp"

namespace mnsim::io {

class FieldsWriter {
 public:
  /// Starts DIR/name.h5 (in memory until close()) for the given fields of a grid.
  FieldsWriter(const std::filesystem::path& path, const grid::Grid& grid,
               std::vector<std::string> fields);
  ~FieldsWriter();
  FieldsWriter(const FieldsWriter&) = delete;
  FieldsWriter& operator=(const FieldsWriter&) = delete;

  /// Stores a string attribute on the root group (scenario, metadata).
  void attribute(const std::string& name, const std::string& value);
  /// Appends one snapshot of the named fields (interior cells only).
  void snapshot(double time_s, const std::string& label, const grid::FieldSet& fields);
  /// Appends one snapshot from interior values already gathered: one vector of nz*ny*nx values
  /// (i fastest) per field of the writer, in its order (snapshots kept by a checkpoint).
  void snapshot_values(double time_s, const std::string& label,
                       const std::vector<std::vector<float>>& values);
  const std::vector<std::string>& fields() const { return fields_; }
  /// Flushes, closes and renames into place; writes the XDMF sidecar. Throws OutputError.
  void close();

  std::size_t snapshots() const { return times_.size(); }

 private:
  void write_header();
  void write_xdmf() const;

  std::filesystem::path path_;
  grid::Grid grid_;
  std::vector<std::string> fields_;
  std::vector<double> times_;
  std::vector<std::string> labels_;
  long long file_ = -1;  // hid_t
  bool closed_ = false;
};

/// Interior values (i fastest, then j, then k) of the named fields.
std::vector<std::vector<float>> gather_interior(const grid::FieldSet& fields,
                                                const std::vector<std::string>& names);

/// Reads one field of one snapshot back (tests, tools). Returns nz*ny*nx values.
std::vector<float> read_snapshot_field(const std::filesystem::path& path, int snapshot,
                                       const std::string& field);

}  // namespace mnsim::io
