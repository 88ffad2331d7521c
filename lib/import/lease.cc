#include "import/lease.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/ids.h"
#include "util/log.h"

namespace p2l {

namespace {

constexpr uint64_t kMaxLeaseSize = 64 << 10;

int64_t NowSeconds() { return int64_t(std::time(nullptr)); }

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string s;
  char buf[4096];
  in.read(buf, sizeof buf);
  s.assign(buf, size_t(in.gcount()));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat; "" when unavailable.
std::string ProcStartTime(int64_t pid) {
  std::string stat = ReadSmallFile(fmt::format("/proc/{}/stat", pid));
  size_t rp = stat.rfind(')');
  if (rp == std::string::npos) return "";
  // After ") " come fields 3.. separated by single spaces; starttime is field 22.
  size_t pos = rp + 2;
  for (int field = 3; field < 22; field++) {
    pos = stat.find(' ', pos);
    if (pos == std::string::npos) return "";
    pos++;
  }
  size_t end = stat.find(' ', pos);
  return stat.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

std::string LeaseRecord::ToJson() const {
  nlohmann::json j = {{"host", host},       {"boot_id", boot_id}, {"pid", pid},
                      {"pid_start", pid_start}, {"token", token},  {"idempotency_key", idempotency_key},
                      {"started", started}, {"renewed", renewed}, {"expires", expires}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<LeaseRecord> LeaseRecord::Parse(std::string_view json, std::string_view what) {
  LeaseRecord r;
  try {
    nlohmann::json j = nlohmann::json::parse(json);
    if (!j.is_object()) return Status::InvalidInput(fmt::format("{}: expected a JSON object", what));
    auto str = [&](const char* k, std::string* out) -> Status {
      auto it = j.find(k);
      if (it == j.end() || !it->is_string()) {
        return Status::InvalidInput(fmt::format("{}: member \"{}\" missing or not a string", what, k));
      }
      *out = it->get<std::string>();
      return Status::OK();
    };
    auto num = [&](const char* k, int64_t* out) -> Status {
      auto it = j.find(k);
      if (it == j.end() || !it->is_number_integer()) {
        return Status::InvalidInput(fmt::format("{}: member \"{}\" missing or not an integer", what, k));
      }
      *out = it->get<int64_t>();
      return Status::OK();
    };
    P2L_RETURN_IF_ERROR(str("host", &r.host));
    P2L_RETURN_IF_ERROR(str("boot_id", &r.boot_id));
    P2L_RETURN_IF_ERROR(str("pid_start", &r.pid_start));
    P2L_RETURN_IF_ERROR(str("token", &r.token));
    P2L_RETURN_IF_ERROR(str("idempotency_key", &r.idempotency_key));
    P2L_RETURN_IF_ERROR(num("pid", &r.pid));
    P2L_RETURN_IF_ERROR(num("started", &r.started));
    P2L_RETURN_IF_ERROR(num("renewed", &r.renewed));
    P2L_RETURN_IF_ERROR(num("expires", &r.expires));
  } catch (const std::exception& e) {
    return Status::InvalidInput(fmt::format("{}: not valid JSON: {}", what, e.what()));
  }
  return r;
}

std::string LeaseRecord::Describe(int64_t now) const {
  std::string exp = expires >= now ? fmt::format("expires in {} s", expires - now)
                                   : fmt::format("expired {} s ago", now - expires);
  return fmt::format("host {} pid {}, idempotency key \"{}\", last renewed {} s ago, {}", host, pid, idempotency_key,
                     now - renewed, exp);
}

LeaseRecord SelfLeaseRecord() {
  LeaseRecord r;
  r.host = HostName();
  r.boot_id = ReadSmallFile("/proc/sys/kernel/random/boot_id");
  r.pid = int64_t(::getpid());
  r.pid_start = ProcStartTime(r.pid);
  return r;
}

bool LeaseHolderIsDeadHere(const LeaseRecord& r) {
  static const LeaseRecord self = SelfLeaseRecord();
  if (r.host != self.host || r.boot_id.empty() || r.boot_id != self.boot_id) return false;
  if (r.pid <= 0 || r.pid > INT32_MAX) return false;
  if (::kill(pid_t(r.pid), 0) != 0 && errno == ESRCH) return true;
  // The pid runs: it is the holder unless the pid was reused by a later process.
  const std::string start = ProcStartTime(r.pid);
  return !start.empty() && !r.pid_start.empty() && start != r.pid_start;
}

Result<bool> RemoveStaleLease(Storage& dest, const std::string& object) {
  Result<std::string> body = dest.ReadAll(object, kMaxLeaseSize);
  if (!body.ok()) {
    if (body.status().IsNotFound()) return false;
    return body.status().WithContext("reading the destination lease");
  }
  const std::string where = dest.Describe(object);
  Result<LeaseRecord> rec = LeaseRecord::Parse(*body, where);
  if (!rec.ok()) return false;
  const int64_t now = NowSeconds();
  const bool dead = LeaseHolderIsDeadHere(*rec);
  if (!dead && now <= rec->expires) return false;
  LogInfo("removing the stale lease {} ({}: {})", where, dead ? "its process is gone" : "expired",
          rec->Describe(now));
  P2L_RETURN_IF_ERROR(dest.Delete(object).WithContext("deleting the stale destination lease"));
  return true;
}

Lease::Lease(Storage& dest, std::string object, LeaseRecord rec, const LeaseOptions& opts)
    : dest_(dest), object_(std::move(object)), rec_(std::move(rec)), opts_(opts) {
  last_ok_renewal_ = rec_.renewed;
}

Result<std::unique_ptr<Lease>> Lease::Acquire(Storage& dest, std::string object, std::string idempotency_key,
                                              const LeaseOptions& opts) {
  LeaseRecord rec = SelfLeaseRecord();
  rec.token = Id16::Random().ToHex();
  rec.idempotency_key = std::move(idempotency_key);
  const std::string where = dest.Describe(object);
  for (int attempt = 0;; attempt++) {
    rec.started = rec.renewed = NowSeconds();
    rec.expires = rec.renewed + opts.ttl_seconds;
    Status st = dest.PutIfAbsent(object, rec.ToJson());
    if (st.ok()) break;
    if (st.code() != Code::kConflict) return st.WithContext("taking the destination lease");
    if (attempt >= 3) {
      return Status::Conflict(fmt::format("{}: could not take the lease after {} attempts (it keeps reappearing: "
                                          "another import is starting)", where, attempt + 1));
    }
    Result<std::string> body = dest.ReadAll(object, kMaxLeaseSize);
    if (!body.ok()) {
      if (body.status().IsNotFound()) continue;   // released meanwhile
      return body.status().WithContext("reading the existing destination lease");
    }
    Result<LeaseRecord> other = LeaseRecord::Parse(*body, where);
    if (!other.ok()) {
      return Status::Conflict(fmt::format("{} exists but cannot be read ({}); if no import is running for this "
                                          "timeline, delete it and retry", where, other.status().message()));
    }
    const int64_t now = NowSeconds();
    const bool expired = now > other->expires;
    const bool dead = LeaseHolderIsDeadHere(*other);
    if (!expired && !dead) {
      return Status::Conflict(fmt::format("another import holds {}: {}; wait for it to finish (or, if it is "
                                          "gone, for the lease to expire)", where, other->Describe(now)));
    }
    LogWarn("taking over the stale lease {} ({}: {})", where, dead ? "its process is gone" : "expired",
            other->Describe(now));
    P2L_RETURN_IF_ERROR(dest.Delete(object).WithContext("deleting the stale destination lease"));
  }
  // Read back: on stores without an atomic conditional PUT a racing importer may have overwritten us.
  P2L_ASSIGN_OR_RETURN(std::string back, dest.ReadAll(object, kMaxLeaseSize));
  Result<LeaseRecord> mine = LeaseRecord::Parse(back, where);
  if (!mine.ok() || mine->token != rec.token) {
    return Status::Conflict(fmt::format("another import took {} at the same moment", where));
  }
  std::unique_ptr<Lease> lease(new Lease(dest, std::move(object), std::move(rec), opts));
  if (opts.renew_in_background) lease->thread_ = std::thread([l = lease.get()] { l->RenewLoop(); });
  return lease;
}

Lease::~Lease() { StopThread(); }

void Lease::StopThread() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Lease::Healthy() const {
  std::lock_guard<std::mutex> g(mu_);
  if (lost_) return Status::Conflict(lost_reason_);
  const int64_t now = NowSeconds();
  if (now - last_ok_renewal_ > opts_.ttl_seconds) {
    return Status::Conflict(fmt::format("{}: not renewed for {} s (ttl {} s); another import may have taken it over",
                                        dest_.Describe(object_), now - last_ok_renewal_, opts_.ttl_seconds));
  }
  return Status::OK();
}

Status Lease::Renew() {
  const std::string where = dest_.Describe(object_);
  LeaseRecord next;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (lost_) return Status::Conflict(lost_reason_);
    next = rec_;
  }
  auto lose = [&](std::string why) {
    std::lock_guard<std::mutex> g(mu_);
    lost_ = true;
    lost_reason_ = std::move(why);
    return Status::Conflict(lost_reason_);
  };
  Result<std::string> body = dest_.ReadAll(object_, kMaxLeaseSize);
  if (!body.ok()) {
    if (body.status().IsNotFound()) return lose(fmt::format("lost the destination lease: {} was deleted", where));
    return body.status().WithContext("renewing the destination lease");
  }
  Result<LeaseRecord> cur = LeaseRecord::Parse(*body, where);
  if (!cur.ok() || cur->token != next.token) {
    return lose(fmt::format("lost the destination lease: {} now belongs to {}", where,
                            cur.ok() ? cur->Describe(NowSeconds()) : cur.status().message()));
  }
  next.renewed = NowSeconds();
  next.expires = next.renewed + opts_.ttl_seconds;
  P2L_RETURN_IF_ERROR(dest_.Put(object_, next.ToJson()).WithContext("renewing the destination lease"));
  std::lock_guard<std::mutex> g(mu_);
  rec_ = next;
  last_ok_renewal_ = next.renewed;
  return Status::OK();
}

void Lease::RenewLoop() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait_for(lk, std::chrono::seconds(opts_.renew_every_seconds), [this] { return stop_; });
    if (stop_ || lost_) return;
    lk.unlock();
    Status st = Renew();
    if (!st.ok()) LogWarn("{}", st.message());
    lk.lock();
  }
}

Status Lease::Release() {
  StopThread();
  {
    std::lock_guard<std::mutex> g(mu_);
    if (lost_) return Status::OK();   // not ours any more: leave it alone
  }
  Result<std::string> body = dest_.ReadAll(object_, kMaxLeaseSize);
  if (!body.ok()) return body.status().IsNotFound() ? Status::OK() : body.status();
  Result<LeaseRecord> cur = LeaseRecord::Parse(*body, dest_.Describe(object_));
  if (!cur.ok() || cur->token != rec_.token) return Status::OK();
  return dest_.Delete(object_).WithContext("removing the destination lease");
}

}  // namespace p2l
