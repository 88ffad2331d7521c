// A small RandomReader over a local file, using pread (tests and tools; the full local Storage
// backend lives in lib/storage/).
#pragma once

#include <memory>
#include <string>

#include "storage/storage.h"
#include "util/status.h"

namespace p2l {

// info() = {path, size at open, "<mtime_ns>-<inode>"}. ReadAt past the recorded size is
// kInvalidInput; a short read (the file shrank) is kSourceChanged; other errors kIo.
Result<std::unique_ptr<RandomReader>> OpenLocalFileReader(const std::string& path);

}  // namespace p2l
