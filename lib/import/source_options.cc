// Source storage options and byte-size parsing; see source_options.h.
#include "import/source_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace p2l {

StorageOptions SourceStorageOptions(StorageOptions base) {
  for (const char* d : {"pg_tblspc", "pgdata/pg_tblspc"}) {
    if (std::find(base.follow_symlinks_in.begin(), base.follow_symlinks_in.end(), d) ==
        base.follow_symlinks_in.end()) {
      base.follow_symlinks_in.push_back(d);
    }
  }
  base.reuse_read_dirs = true;
  return base;
}

Result<std::unique_ptr<Storage>> OpenSource(std::string_view url, const StorageOptions& base) {
  return OpenStorage(url, SourceStorageOptions(base));
}

Result<uint64_t> ParseByteSize(std::string_view text, std::string_view flag) {
  auto bad = [&](std::string_view why) {
    return Status::Usage(fmt::format(
        "{} \"{}\": {} (use a number of bytes with an optional unit: B, KiB, MiB, GiB, TiB, K, M, "
        "G, T (powers of 1024) or kB, MB, GB, TB (powers of 1000), e.g. 256MiB)",
        flag, text, why));
  };
  size_t i = 0;
  uint64_t v = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    const uint64_t d = uint64_t(text[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return bad("too large");
    v = v * 10 + d;
    i++;
  }
  if (i == 0) return bad("no number");
  std::string_view unit = text.substr(i);
  if (unit.size() > 1 && unit.front() == ' ') unit.remove_prefix(1);
  struct Unit {
    const char* name;
    uint64_t mult;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"B", 1},
      {"k", 1ull << 10},
      {"K", 1ull << 10},
      {"KiB", 1ull << 10},
      {"M", 1ull << 20},
      {"MiB", 1ull << 20},
      {"G", 1ull << 30},
      {"GiB", 1ull << 30},
      {"T", 1ull << 40},
      {"TiB", 1ull << 40},
      {"kB", 1000ull},
      {"KB", 1000ull},
      {"MB", 1000ull * 1000},
      {"GB", 1000ull * 1000 * 1000},
      {"TB", 1000ull * 1000 * 1000 * 1000},
  };
  for (const Unit& u : kUnits) {
    if (unit == u.name) {
      if (v > UINT64_MAX / u.mult) return bad("too large");
      return v * u.mult;
    }
  }
  return bad(fmt::format("unknown unit \"{}\"", unit));
}

}  // namespace p2l
