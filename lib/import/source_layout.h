// Which layout the import source has, and its pg_control.
//
//   "<root>/pgdata/global/pg_control" exists  -> Neon import-bucket layout, pgdata_prefix "pgdata/"
//   else "<root>/global/pg_control" exists    -> a plain PGDATA directory, pgdata_prefix ""
//   else                                      -> kNotFound naming the source and both paths.
// (Waiting for the bucket's status/pgdata marker is the import's job, not done here.)
#pragma once

#include <string>

#include "pg/controlfile.h"
#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

struct SourceLayout {
  std::string pgdata_prefix;   // "pgdata/" or ""
  ObjectInfo control_object;   // <prefix>global/pg_control as listed (size, version)
  bool bucket_layout() const { return !pgdata_prefix.empty(); }
};

Result<SourceLayout> DetectSourceLayout(Storage& source);

// Reads <prefix>global/pg_control (at most kControlFileMaxSize bytes, checked against
// `layout.control_object`'s size and version) and parses it (ControlFile::Parse). With
// allow_unclean_shutdown false, a cluster whose state is not "shut down" is kInvalidInput with
// a message saying how to fix it.
Result<ControlFile> ReadControlFile(Storage& source, const SourceLayout& layout,
                                    bool allow_unclean_shutdown);

}  // namespace p2l
