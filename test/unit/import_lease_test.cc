// Tests for lib/import/lease.{h,cc} on the local backend: exclusion, renewal, release, takeover of
// expired leases and of leases whose process is gone, malformed leases, loss detection.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include "import/lease.h"
#include "storage/storage.h"

namespace fs = std::filesystem;

namespace p2l {

namespace {

struct LeaseDir {
  fs::path path;
  std::unique_ptr<Storage> s;
  LeaseDir() {
    std::string t = (fs::temp_directory_path() / "p2l-lease-test.XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
    auto r = OpenStorage(path.string(), StorageOptions());
    REQUIRE(r.ok());
    s = std::move(r).value();
  }
  ~LeaseDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string Read(const std::string& rel) const {
    std::ifstream in(path / rel, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

const char* kObj = "tenants/t/timelines/l/pgdata2layers.lease";

LeaseOptions NoThread() {
  LeaseOptions o;
  o.renew_in_background = false;
  return o;
}

// A lease record of another (live) process on another machine.
LeaseRecord Foreign(int64_t expires) {
  LeaseRecord r;
  r.host = "some-other-host";
  r.boot_id = "x";
  r.pid = 4242;
  r.pid_start = "1";
  r.token = "00112233445566778899aabbccddeeff";
  r.idempotency_key = "theirs";
  r.started = r.renewed = expires - 120;
  r.expires = expires;
  return r;
}

}  // namespace

TEST_CASE("LeaseRecord JSON round trip and strict parsing") {
  LeaseRecord r = Foreign(1234);
  auto p = LeaseRecord::Parse(r.ToJson(), "obj");
  REQUIRE(p.ok());
  CHECK(p->host == r.host);
  CHECK(p->pid == 4242);
  CHECK(p->token == r.token);
  CHECK(p->expires == 1234);
  for (const char* bad : {"", "[]", "{}", R"({"host":1})", "{\"host\":\"h\""}) {
    CHECK_MESSAGE(!LeaseRecord::Parse(bad, "obj").ok(), bad);
  }
}

TEST_CASE("a second importer is refused while the lease is held; release frees it") {
  LeaseDir d;
  auto a = Lease::Acquire(*d.s, kObj, "key-a", NoThread());
  REQUIRE(a.ok());
  auto rec = LeaseRecord::Parse(d.Read(kObj), "lease");
  REQUIRE(rec.ok());
  CHECK(rec->idempotency_key == "key-a");
  CHECK(rec->pid == int64_t(::getpid()));
  CHECK(rec->expires > int64_t(std::time(nullptr)));

  // Same process, second lease: the holder is alive → conflict.
  auto b = Lease::Acquire(*d.s, kObj, "key-b", NoThread());
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == Code::kConflict);
  CHECK(b.status().message().find("another import holds") != std::string::npos);

  CHECK((*a)->Healthy().ok());
  CHECK((*a)->Renew().ok());
  CHECK((*a)->Release().ok());
  CHECK_FALSE(fs::exists(d.path / kObj));
  auto c = Lease::Acquire(*d.s, kObj, "key-b", NoThread());
  CHECK(c.ok());
}

TEST_CASE("an expired lease is taken over; a live foreign one is not") {
  LeaseDir d;
  const int64_t now = int64_t(std::time(nullptr));
  REQUIRE(d.s->Put(kObj, Foreign(now + 60).ToJson()).ok());
  auto a = Lease::Acquire(*d.s, kObj, "mine", NoThread());
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == Code::kConflict);
  CHECK(a.status().message().find("some-other-host") != std::string::npos);

  REQUIRE(d.s->Put(kObj, Foreign(now - 5).ToJson()).ok());
  a = Lease::Acquire(*d.s, kObj, "mine", NoThread());
  REQUIRE(a.ok());
  auto rec = LeaseRecord::Parse(d.Read(kObj), "lease");
  REQUIRE(rec.ok());
  CHECK(rec->idempotency_key == "mine");
}

TEST_CASE("a lease left by a dead process on this machine is taken over at once") {
  LeaseDir d;
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child takes the lease and dies without releasing it (like kill -9).
    auto l = Lease::Acquire(*d.s, kObj, "k", NoThread());
    ::_exit(l.ok() ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  auto rec = LeaseRecord::Parse(d.Read(kObj), "lease");
  REQUIRE(rec.ok());
  CHECK(rec->pid == int64_t(child));
  CHECK(rec->expires > int64_t(std::time(nullptr)));   // not expired: only the dead pid frees it
  CHECK(LeaseHolderIsDeadHere(*rec));
  auto l = Lease::Acquire(*d.s, kObj, "k", NoThread());
  CHECK(l.ok());
  CHECK_FALSE(LeaseHolderIsDeadHere(SelfLeaseRecord()));
}

TEST_CASE("RemoveStaleLease: only expired or dead-holder leases are removed") {
  LeaseDir d;
  const int64_t now = int64_t(std::time(nullptr));
  auto r = RemoveStaleLease(*d.s, kObj);   // absent
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  REQUIRE(d.s->Put(kObj, Foreign(now + 60).ToJson()).ok());   // live, foreign
  r = RemoveStaleLease(*d.s, kObj);
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  CHECK(d.s->Stat(kObj).ok());
  {
    auto live = Lease::Acquire(*d.s, "tenants/t/timelines/l2/pgdata2layers.lease", "k", NoThread());
    REQUIRE(live.ok());
    r = RemoveStaleLease(*d.s, "tenants/t/timelines/l2/pgdata2layers.lease");   // ours, alive
    REQUIRE(r.ok());
    CHECK_FALSE(*r);
  }
  REQUIRE(d.s->Put(kObj, "not json").ok());   // unreadable: left for a human
  r = RemoveStaleLease(*d.s, kObj);
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  REQUIRE(d.s->Put(kObj, Foreign(now - 5).ToJson()).ok());   // expired
  r = RemoveStaleLease(*d.s, kObj);
  REQUIRE(r.ok());
  CHECK(*r);
  CHECK(d.s->Stat(kObj).status().IsNotFound());
}

TEST_CASE("a malformed lease is a conflict telling to delete it") {
  LeaseDir d;
  REQUIRE(d.s->Put(kObj, "not json").ok());
  auto a = Lease::Acquire(*d.s, kObj, "k", NoThread());
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == Code::kConflict);
  CHECK(a.status().message().find("delete it") != std::string::npos);
}

TEST_CASE("a lease taken over by someone else is detected as lost and not deleted") {
  LeaseDir d;
  auto a = Lease::Acquire(*d.s, kObj, "k", NoThread());
  REQUIRE(a.ok());
  const int64_t now = int64_t(std::time(nullptr));
  const std::string theirs = Foreign(now + 100).ToJson();
  REQUIRE(d.s->Put(kObj, theirs).ok());
  Status st = (*a)->Renew();
  CHECK(st.code() == Code::kConflict);
  CHECK((*a)->Healthy().code() == Code::kConflict);
  CHECK((*a)->Release().ok());
  CHECK(d.Read(kObj) == theirs);   // not ours: left alone

  // Deleted under us: lost as well.
  REQUIRE(d.s->Delete(kObj).ok());
  auto b = Lease::Acquire(*d.s, kObj, "k", NoThread());
  REQUIRE(b.ok());
  REQUIRE(d.s->Delete(kObj).ok());
  CHECK((*b)->Renew().code() == Code::kConflict);
}

TEST_CASE("the background thread renews the lease") {
  LeaseDir d;
  LeaseOptions o;
  o.renew_every_seconds = 1;
  o.ttl_seconds = 30;
  auto a = Lease::Acquire(*d.s, kObj, "k", o);
  REQUIRE(a.ok());
  auto before = LeaseRecord::Parse(d.Read(kObj), "lease");
  REQUIRE(before.ok());
  // Wait until the renewal time moves (at most ~3 s).
  bool renewed = false;
  for (int i = 0; i < 40 && !renewed; i++) {
    ::usleep(100 * 1000);
    auto now = LeaseRecord::Parse(d.Read(kObj), "lease");
    renewed = now.ok() && now->renewed > before->renewed;
  }
  CHECK(renewed);
  CHECK((*a)->Healthy().ok());
  CHECK((*a)->Release().ok());
  CHECK_FALSE(fs::exists(d.path / kObj));
}

}  // namespace p2l
