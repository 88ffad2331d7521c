#include "storage/memory_reader.h"

#include <fmt/format.h>

#include <cstring>

namespace p2l {

namespace {

class MemoryReader : public RandomReader {
 public:
  MemoryReader(std::string name, std::string data, std::string version) : data_(std::move(data)) {
    info_.name = std::move(name);
    info_.size = data_.size();
    info_.version = std::move(version);
  }
  const ObjectInfo& info() const override { return info_; }
  Status ReadAt(uint64_t offset, uint64_t len, uint8_t* out) override {
    if (offset > data_.size() || len > data_.size() - offset) {
      return Status::InvalidInput(fmt::format("{}: read of {} bytes at offset {} past the end ({} "
                                              "bytes)",
                                              info_.name, len, offset, data_.size()));
    }
    if (len > 0) std::memcpy(out, data_.data() + offset, len);
    return Status::OK();
  }

 private:
  ObjectInfo info_;
  std::string data_;
};

}  // namespace

std::unique_ptr<RandomReader> NewMemoryReader(std::string name, std::string data,
                                              std::string version) {
  return std::make_unique<MemoryReader>(std::move(name), std::move(data), std::move(version));
}

}  // namespace p2l
