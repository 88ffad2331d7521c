#include "util/status.h"

namespace p2l {

int ExitCodeFor(Code c) {
  switch (c) {
    case Code::kOk: return 0;
    case Code::kUsage: return 2;
    case Code::kInvalidInput: return 3;
    case Code::kNotFound: return 3;
    case Code::kIo: return 4;
    case Code::kConflict: return 5;
    case Code::kTimeout: return 6;
    case Code::kSourceChanged: return 7;
    case Code::kTimelineTaken: return 8;
    case Code::kInternal: return 70;
  }
  return 70;
}

const char* CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "ok";
    case Code::kUsage: return "usage";
    case Code::kInvalidInput: return "invalid_input";
    case Code::kNotFound: return "not_found";
    case Code::kIo: return "io";
    case Code::kConflict: return "conflict";
    case Code::kTimeout: return "timeout";
    case Code::kSourceChanged: return "source_changed";
    case Code::kTimelineTaken: return "timeline_taken";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + msg_;
}

}  // namespace p2l
