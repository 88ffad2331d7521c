// Errors as values. Every fallible function returns Status or Result<T>; nothing read from
// input (PGDATA, S3, Azure, JSON, layer files) may throw, assert or abort.
//
// A Status carries a Code (which decides the process exit code, see man page) and a message that
// names the file/object and what was wrong, e.g.
//   "base/5/16384.1: size 8193 is not a multiple of 8192".
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace p2l {

enum class Code : int {
  kOk = 0,
  kUsage,          // bad flags or arguments (exit 2)
  kInvalidInput,   // source/destination data is corrupt or unsupported (exit 3)
  kNotFound,       // a required file/object does not exist (exit 3 when it is input)
  kIo,             // local I/O, network or remote-storage failure (exit 4)
  kConflict,       // another import holds the destination (lease) or a newer generation (exit 5)
  kTimeout,        // gave up waiting (status/pgdata marker, notification) (exit 6)
  kSourceChanged,  // the source changed during or since planning (exit 7)
  kTimelineTaken,  // the destination timeline belongs to another import or is not an import (exit 8)
  kInternal,       // a bug: an invariant of our own code was broken (exit 70)
};

// Process exit code for a Code (documented in man/pgdata2layers.1, EXIT STATUS).
int ExitCodeFor(Code c);
const char* CodeName(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string msg) : code_(code), msg_(std::move(msg)) {}

  static Status OK() { return Status(); }
  static Status Usage(std::string m) { return {Code::kUsage, std::move(m)}; }
  static Status InvalidInput(std::string m) { return {Code::kInvalidInput, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Io(std::string m) { return {Code::kIo, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status TimelineTaken(std::string m) { return {Code::kTimelineTaken, std::move(m)}; }
  static Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
  static Status SourceChanged(std::string m) { return {Code::kSourceChanged, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }

  // "ctx: message" — adds the file/object/step to an error coming from below.
  Status WithContext(std::string_view ctx) const {
    if (ok()) return *this;
    return Status(code_, std::string(ctx) + ": " + msg_);
  }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string msg_;
};

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}                 // NOLINT: implicit on purpose
  Result(Status s) : v_(std::move(s)) {             // NOLINT
    if (std::get<Status>(v_).ok()) v_ = Status::Internal("Result constructed from OK status");
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace p2l

// Propagate a non-OK Status.
#define P2L_RETURN_IF_ERROR(expr)            \
  do {                                       \
    ::p2l::Status _st = (expr);              \
    if (!_st.ok()) return _st;               \
  } while (0)

#define P2L_CONCAT_INNER(a, b) a##b
#define P2L_CONCAT(a, b) P2L_CONCAT_INNER(a, b)
// P2L_ASSIGN_OR_RETURN(auto x, F()); — declares x from a Result or returns its Status.
#define P2L_ASSIGN_OR_RETURN(lhs, rexpr) \
  P2L_ASSIGN_OR_RETURN_IMPL(P2L_CONCAT(_res_, __LINE__), lhs, rexpr)
#define P2L_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                              \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
