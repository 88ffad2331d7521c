// Tests for lib/import/listing_prefetch.{h,cc}: answers equal the inner storage's, sub-directories
// of picked directories are answered from the read-ahead, other calls pass through.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "import/listing_prefetch.h"
#include "layer_test_util.h"

namespace p2l {

namespace {

void Touch(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

bool SameListing(const Listing& a, const Listing& b) {
  if (a.prefixes != b.prefixes || a.objects.size() != b.objects.size()) return false;
  for (size_t i = 0; i < a.objects.size(); i++) {
    if (a.objects[i].name != b.objects[i].name || a.objects[i].size != b.objects[i].size ||
        a.objects[i].version != b.objects[i].version) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("PrefetchingLister answers like the storage it wraps, from the read-ahead") {
  layertest::TempDir dir;
  for (const char* f : {"base/1/1259", "base/1/1259_fsm", "base/5/16384", "base/7/2600", "global/pg_control",
                        "pg_tblspc/16400/PG_15_1/5/16401"}) {
    Touch(dir.File(f), std::string(f));
  }
  auto inner = OpenStorage(dir.path(), StorageOptions{});
  REQUIRE(inner.ok());
  Storage& s = **inner;
  PrefetchingLister pl(s, 3, [](std::string_view d) { return d == "base" || d.starts_with("pg_tblspc"); });

  CHECK(pl.Url() == s.Url());
  CHECK(pl.Describe("base/1") == s.Describe("base/1"));
  CHECK(pl.IsLocal() == s.IsLocal());

  for (const char* d : {"base/", "base/1/", "base/5", "base/7/", "global/", "pg_tblspc/", "pg_tblspc/16400/",
                        "pg_tblspc/16400/PG_15_1/", "pg_tblspc/16400/PG_15_1/5/", "base/1/"}) {
    CAPTURE(d);
    auto want = s.List(d);
    auto got = pl.List(d);
    REQUIRE(want.ok());
    REQUIRE(got.ok());
    CHECK(SameListing(*want, *got));
  }
  // base/1, base/5, base/7 and the three levels below pg_tblspc/ came from the read-ahead; global/
  // and the second base/1/ (taken already) did not.
  CHECK(pl.prefetch_hits() == 6);

  auto st = pl.Stat("global/pg_control");
  REQUIRE(st.ok());
  CHECK(st->size == std::string("global/pg_control").size());
  CHECK(pl.Stat("global/missing").status().IsNotFound());
}

TEST_CASE("PrefetchingLister passes errors through and can be destroyed with listings in flight") {
  layertest::TempDir dir;
  for (int i = 0; i < 40; i++) Touch(dir.File("base/" + std::to_string(i) + "/1"), "x");
  auto inner = OpenStorage(dir.path(), StorageOptions{});
  REQUIRE(inner.ok());
  {
    PrefetchingLister pl(**inner, 2, [](std::string_view d) { return d == "base"; });
    auto l = pl.List("base/");
    REQUIRE(l.ok());
    CHECK(l->prefixes.size() == 40);
    // A directory removed after the read-ahead was queued: whatever the inner storage answers
    // (empty listing or error) is what the caller gets; nothing crashes.
    std::filesystem::remove_all(dir.File("base/39"));
    auto gone = pl.List("base/39/");
    if (gone.ok()) CHECK(gone->objects.size() <= 1);
  }   // destroyed with up to 38 listings queued or in flight
}

}  // namespace p2l
