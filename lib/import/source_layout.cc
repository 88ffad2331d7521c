// Source layout detection and pg_control reading; see source_layout.h.
#include "import/source_layout.h"

#include <fmt/format.h>

#include <optional>

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

namespace {

// PG_VERSION's text without the trailing newline ("17"); nullopt when it is absent, unreadable or
// longer than a version can be (it is only ever used to explain or cross-check pg_control).
std::optional<std::string> ReadPgVersion(Storage& source, const std::string& name) {
  Result<ObjectInfo> info = source.Stat(name);
  if (!info.ok() || info->size == 0 || info->size > 16) return std::nullopt;
  Result<std::unique_ptr<RandomReader>> r = source.OpenReader(name, &*info);
  std::string text(size_t(info->size), '\0');
  if (!r.ok() || !(*r)->ReadAt(0, info->size, reinterpret_cast<uint8_t*>(text.data())).ok()) return std::nullopt;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

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
  const std::string pgv = layout.pgdata_prefix + "PG_VERSION";
  if (!parsed.ok() && parsed.status().message().find(kServedVersionsText) != std::string::npos) {
    // An unsupported version: add what PG_VERSION says.
    if (std::optional<std::string> text = ReadPgVersion(source, pgv)) {
      return Status::InvalidInput(
          fmt::format("{}; {} says \"{}\"", parsed.status().message(), source.Describe(pgv), *text));
    }
  }
  P2L_ASSIGN_OR_RETURN(ControlFile control, std::move(parsed));
  // PostgreSQL refuses to start when PG_VERSION names another major version than its own: a
  // PGDATA whose PG_VERSION and pg_control disagree was assembled from two clusters.
  if (std::optional<std::string> text = ReadPgVersion(source, pgv); text && *text != std::to_string(control.pg_major)) {
    return Status::InvalidInput(fmt::format("{} says \"{}\" but {} is PostgreSQL {}: the files come from different clusters",
                                            source.Describe(pgv), *text, where, control.pg_major));
  }
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
