// Source layout detection and pg_control reading; see source_layout.h.
#include "import/source_layout.h"

#include <fmt/format.h>

namespace p2l {

namespace {

constexpr const char* kBucketPrefix = "pgdata/";
constexpr const char* kControlName = "global/pg_control";

}  // namespace

Result<SourceLayout> DetectSourceLayout(Storage& source) {
  const std::string bucket_control = std::string(kBucketPrefix) + kControlName;
  Result<ObjectInfo> st = source.Stat(bucket_control);
  if (st.ok()) return SourceLayout{kBucketPrefix, std::move(st).value()};
  if (!st.status().IsNotFound()) return st.status();

  st = source.Stat(kControlName);
  if (st.ok()) return SourceLayout{"", std::move(st).value()};
  if (!st.status().IsNotFound()) return st.status();

  return Status::NotFound(fmt::format(
      "{}: not a PostgreSQL data directory: neither {} (Neon import bucket layout) nor {} (plain "
      "PGDATA) exists",
      source.Url(), source.Describe(bucket_control), source.Describe(kControlName)));
}

Result<ControlFile> ReadControlFile(Storage& source, const SourceLayout& layout,
                                    bool allow_unclean_shutdown) {
  const ObjectInfo& info = layout.control_object;
  const std::string where = source.Describe(info.name);
  if (info.size > kControlFileMaxSize) {
    return Status::InvalidInput(fmt::format("{}: size {} is larger than {} bytes: not a pg_control file",
                                            where, info.size, kControlFileMaxSize));
  }
  P2L_ASSIGN_OR_RETURN(std::unique_ptr<RandomReader> reader, source.OpenReader(info.name, &info));
  std::string bytes(size_t(info.size), '\0');
  if (info.size > 0) {
    P2L_RETURN_IF_ERROR(reader->ReadAt(0, info.size, reinterpret_cast<uint8_t*>(bytes.data())));
  }
  Result<ControlFile> parsed = ControlFile::Parse(bytes, where);
  if (!parsed.ok() && parsed.status().message().find(kServedVersionsText) != std::string::npos) {
    // An unsupported version: add what PG_VERSION says (a few bytes, e.g. "18\n").
    const std::string pgv = layout.pgdata_prefix + "PG_VERSION";
    Result<ObjectInfo> info_v = source.Stat(pgv);
    if (info_v.ok() && info_v->size > 0 && info_v->size <= 16) {
      Result<std::unique_ptr<RandomReader>> rv = source.OpenReader(pgv, &*info_v);
      std::string text(size_t(info_v->size), '\0');
      if (rv.ok() && (*rv)->ReadAt(0, info_v->size, reinterpret_cast<uint8_t*>(text.data())).ok()) {
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        return Status::InvalidInput(fmt::format("{}; {} says \"{}\"", parsed.status().message(),
                                                source.Describe(pgv), text));
      }
    }
  }
  P2L_ASSIGN_OR_RETURN(ControlFile control, std::move(parsed));
  if (!control.CleanlyShutDown() && !allow_unclean_shutdown) {
    return Status::InvalidInput(fmt::format(
        "{}: the cluster was not shut down cleanly (state: {}); start PostgreSQL on it and stop it "
        "with pg_ctl stop -m fast, or pass --allow-unclean-shutdown to import anyway (the data may "
        "be inconsistent)",
        where, DbStateName(control.state)));
  }
  return control;
}

}  // namespace p2l
