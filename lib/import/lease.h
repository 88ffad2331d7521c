// The destination lease: one importer at a time per timeline shard.
//
// Object: "tenants/<tsid>/timelines/<tl>/pgdata2layers.lease", compact JSON
//   {"host": "...", "boot_id": "...", "pid": 123, "pid_start": "<start time ticks>",
//    "token": "<random 32 hex>", "idempotency_key": "...", "started": <unix s>,
//    "renewed": <unix s>, "expires": <unix s>}
//
// Protocol:
//  * Acquire: Storage::PutIfAbsent. If the object exists it is read:
//      - expired (now > expires), or written on this machine (same host and boot id) by a process
//        that no longer runs (pid gone, or a different process start time) → taken over: Delete,
//        then PutIfAbsent again, then read back to check that our token is the one stored;
//      - otherwise kConflict "another import holds ...", naming host, pid and expiry.
//    An unreadable/malformed lease is kConflict too, telling to delete it by hand once no import
//    runs.
//  * Renew: a background thread rewrites the object (Put) every `renew_every` seconds with a new
//    expiry (now + ttl). Before each rewrite it reads the object back; if the token is not ours
//    (another process took the lease over after we stalled longer than the ttl), the lease is
//    marked lost and never rewritten again. The importer checks Healthy() before every
//    index_part write, so a process that lost its lease stops before publishing anything.
//  * Release: stop the thread, delete the object if it still holds our token.
//
// Limits (documented in the man page):
//  * Mutual exclusion is as strong as PutIfAbsent: atomic on local filesystems (link()) and on
//    object stores that honour "If-None-Match: *" on PUT (AWS S3 since 2024, Azure); on stores that
//    ignore it (some S3 clones) two importers starting within the same instant can both win.
//  * Takeover of an expired lease (Delete + PutIfAbsent) has a window in which two importers that
//    both saw the same expired lease race; the read-back check and the renewer's token check make
//    the loser stop at its next renewal or index write, but layers it wrote meanwhile are not
//    undone (they have the same names and contents: the output is deterministic).
//  * Expiry compares wall clocks of different machines: keep clocks within the ttl margin.
//  * The same-machine liveness test trusts "host" + "boot_id"; containers sharing a host name and
//    a kernel but with separate pid namespaces could mistake a live importer for a dead one.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

inline constexpr const char* kLeaseBaseName = "pgdata2layers.lease";

struct LeaseOptions {
  int64_t ttl_seconds = 120;          // expiry = last renewal + ttl
  int64_t renew_every_seconds = 20;   // background rewrite period
  bool renew_in_background = true;
};

// What a lease object says (parsed).
struct LeaseRecord {
  std::string host, boot_id, token, idempotency_key;
  int64_t pid = 0;
  std::string pid_start;
  int64_t started = 0, renewed = 0, expires = 0;   // unix seconds

  std::string ToJson() const;
  static Result<LeaseRecord> Parse(std::string_view json, std::string_view what);
  // "host H pid P (started ..., expires in N s)" for messages.
  std::string Describe(int64_t now) const;
};

// This process's identity (host name, boot id, pid, pid start time).
LeaseRecord SelfLeaseRecord();
// True when `r` was written on this machine by a process that is no longer running.
bool LeaseHolderIsDeadHere(const LeaseRecord& r);

// Deletes the lease at `object` if it is stale (expired, or its holder is gone from this machine):
// a process killed after writing the Done index leaves its lease behind, and the rerun that finds
// the import complete removes it. Returns whether it deleted one; a live holder's lease, an
// unreadable lease and an absent one are left alone (false).
Result<bool> RemoveStaleLease(Storage& dest, const std::string& object);

class Lease {
 public:
  // Takes the lease at `object` (see the protocol above).
  static Result<std::unique_ptr<Lease>> Acquire(Storage& dest, std::string object,
                                                std::string idempotency_key, const LeaseOptions& opts = {});
  ~Lease();   // stops renewing; does NOT delete the object (a crash-like exit leaves it to expire)

  // OK while the lease is ours; kConflict once it was found taken over or a renewal failed for
  // longer than the ttl.
  Status Healthy() const;
  // Rewrites the lease now (also what the background thread does).
  Status Renew();
  // Stops renewing and deletes the object if it is still ours.
  Status Release();
  const std::string& object() const { return object_; }
  const LeaseRecord& record() const { return rec_; }

 private:
  Lease(Storage& dest, std::string object, LeaseRecord rec, const LeaseOptions& opts);
  void RenewLoop();
  void StopThread();

  Storage& dest_;
  const std::string object_;
  LeaseRecord rec_;
  const LeaseOptions opts_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> lost_{false};
  std::string lost_reason_;
  int64_t last_ok_renewal_ = 0;
};

}  // namespace p2l
