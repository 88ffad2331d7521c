// Opening the import source and parsing the option values the plan/import commands share.
//
// The source is any Storage (local directory, s3://, az://). On a local directory PostgreSQL
// keeps user tablespaces as symbolic links in pg_tblspc/; the local backend refuses symbolic
// links unless StorageOptions::follow_symlinks_in names their directory, so the source must be
// opened with SourceStorageOptions() (adds "pg_tblspc" and "pgdata/pg_tblspc", covering both
// source layouts). Every other symbolic link in the source stays an error. On S3/Azure the
// upload already followed the link, so pg_tblspc/<oid>/ is an ordinary "directory".
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

// `base` plus the follow-symlink directories a PGDATA source needs (see above).
StorageOptions SourceStorageOptions(StorageOptions base);

// OpenStorage(url, SourceStorageOptions(base)). Remote credentials come from the environment
// (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/..., see storage backends).
Result<std::unique_ptr<Storage>> OpenSource(std::string_view url, const StorageOptions& base);

// A byte count: decimal digits with an optional unit (no space, or one space):
//   B; KiB MiB GiB TiB and K M G T (powers of 1024); kB KB MB GB TB (powers of 1000).
// Units are case-sensitive except the single letters k/K. "256MiB" = 268435456,
// "512K" = 524288, "1GB" = 1000000000. Overflow, an empty number or an unknown unit is
// kUsage naming `flag` and the text.
Result<uint64_t> ParseByteSize(std::string_view text, std::string_view flag);

}  // namespace p2l
