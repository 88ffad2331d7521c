// Image layer writer (image-layer.md §4-§6). The value area is streamed through one large buffer
// written with pwrite at increasing offsets starting at 8192; the B-tree is built in memory and
// written after the zero padding; the summary (block 0) is the last write; then fsync.
#include "layer/image_layer_writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "layer/blob.h"
#include "layer/btree_builder.h"
#include "layer/format.h"
#include "layer/image_layer_reader.h"
#include "layer/summary.h"

namespace p2l {

namespace {

constexpr size_t kMinBufferSize = 64 << 10;
constexpr uint64_t kWritebackChunk = 8 << 20;

class ImageLayerWriterImpl : public ImageLayerWriter {
 public:
  ImageLayerWriterImpl(std::string path, int fd, const TenantId& tenant,
                       const TimelineId& timeline, const Key& start, const Key& end, uint64_t lsn,
                       const ImageLayerWriterOptions& opts)
      : path_(std::move(path)), fd_(fd), tree_(kKeySize) {
    summary_.magic = kImageFileMagic;
    summary_.format_version = kStorageFormatVersion;
    summary_.tenant = tenant;
    summary_.timeline = timeline;
    summary_.key_start = start;
    summary_.key_end = end;
    summary_.lsn = lsn;
    cap_ = std::max(opts.buffer_size, kMinBufferSize);
    buf_.reset(new uint8_t[cap_]);
    if (opts.zstd) zstd_ = std::make_unique<ZstdCompressor>(opts.zstd_level);
    sync_ = opts.sync;
    writeback_ = opts.sync || opts.start_writeback;
  }
  ~ImageLayerWriterImpl() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Put(const Key& key, std::string_view value) override;
  uint64_t num_keys() const override { return tree_.num_entries(); }
  Result<uint64_t> Finish() override;

 private:
  Status Fail(Status st) {
    failed_ = st;
    return st;
  }
  Status Append(const uint8_t* p, size_t n);
  Status FlushBuffer();
  void StartWriteback();
  Status PWriteAll(const uint8_t* p, size_t n, uint64_t off);

  std::string path_;
  int fd_;
  ImageLayerSummary summary_;
  BTreeBuilder tree_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_ = 0;
  size_t used_ = 0;
  uint64_t write_off_ = kValueAreaStart;  // file offset of buf_[0]
  uint64_t end_off_ = kValueAreaStart;    // file offset after the last appended byte
  uint64_t wb_off_ = kValueAreaStart;     // writeback requested up to here (StartWriteback)
  Key last_key_;
  bool has_last_ = false;
  bool finished_ = false;
  Status failed_;
  std::unique_ptr<ZstdCompressor> zstd_;
  std::string zbuf_;
  bool sync_ = true;
  bool writeback_ = true;
};

Status ImageLayerWriterImpl::PWriteAll(const uint8_t* p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd_, p, n, off_t(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::Io(fmt::format("{}: write of {} bytes at offset {} failed: {}", path_, n,
                                    off, std::strerror(errno)));
    }
    if (w == 0) {
      return Status::Io(fmt::format("{}: write at offset {} wrote nothing", path_, off));
    }
    p += w;
    n -= size_t(w);
    off += uint64_t(w);
  }
  return Status::OK();
}

Status ImageLayerWriterImpl::FlushBuffer() {
  if (used_ == 0) return Status::OK();
  P2L_RETURN_IF_ERROR(PWriteAll(buf_.get(), used_, write_off_));
  write_off_ += used_;
  used_ = 0;
  StartWriteback();
  return Status::OK();
}

// Asks the kernel to start writing back what is written so far, every kWritebackChunk bytes, so
// that the disk works while the job reads on and the fsync in Finish() has little left to wait
// for. Only a hint: failures are ignored (the fsync reports real I/O errors).
void ImageLayerWriterImpl::StartWriteback() {
#ifdef SYNC_FILE_RANGE_WRITE
  if (!writeback_ || write_off_ - wb_off_ < kWritebackChunk) return;
  ::sync_file_range(fd_, off64_t(wb_off_), off64_t(write_off_ - wb_off_), SYNC_FILE_RANGE_WRITE);
  wb_off_ = write_off_;
#endif
}

// Appends bytes at end_off_: through the buffer, or straight to the file for pieces at least as
// large as the buffer when it is empty.
Status ImageLayerWriterImpl::Append(const uint8_t* p, size_t n) {
  end_off_ += n;
  while (n > 0) {
    if (used_ == 0 && n >= cap_) {
      P2L_RETURN_IF_ERROR(PWriteAll(p, n, write_off_));
      write_off_ += n;
      StartWriteback();
      return Status::OK();
    }
    size_t k = std::min(cap_ - used_, n);
    std::memcpy(buf_.get() + used_, p, k);
    used_ += k;
    p += k;
    n -= k;
    if (used_ == cap_) P2L_RETURN_IF_ERROR(FlushBuffer());
  }
  return Status::OK();
}

Status ImageLayerWriterImpl::Put(const Key& key, std::string_view value) {
  if (!failed_.ok()) return failed_;
  if (finished_) return Status::Internal(fmt::format("{}: Put after Finish", path_));
  if (key < summary_.key_start || key >= summary_.key_end) {
    return Status::Internal(fmt::format("{}: key {} outside the layer's range [{}, {})", path_,
                                        key.ToHex(), summary_.key_start.ToHex(),
                                        summary_.key_end.ToHex()));
  }
  if (has_last_ && key <= last_key_) {
    return Status::Internal(fmt::format("{}: key {} not greater than the previous key {}", path_,
                                        key.ToHex(), last_key_.ToHex()));
  }
  if (value.size() > kMaxBlobLen) {
    return Status::InvalidInput(fmt::format("{}: value of key {} is {} bytes, more than the "
                                            "blob limit {}",
                                            path_, key.ToHex(), value.size(), kMaxBlobLen));
  }
  const uint64_t offset = end_off_;
  if (offset > kMaxLeafValue) {
    return Status::InvalidInput(
        fmt::format("{}: layer exceeds the largest blob offset 0x7FFFFFFFFF", path_));
  }

  // §4.4: never compress values under 128 bytes; keep the frame only when strictly smaller.
  std::string_view stored = value;
  bool compressed = false;
  if (zstd_ != nullptr && value.size() >= kMinCompressLen) {
    Status st = zstd_->Compress(value, &zbuf_);
    if (!st.ok()) return Fail(st.WithContext(path_));
    if (zbuf_.size() < value.size()) {
      stored = zbuf_;
      compressed = true;
    }
  }
  uint8_t header[kMaxBlobHeaderSize];
  const size_t hlen = EncodeBlobHeader(uint32_t(stored.size()), compressed, header);
  Status st = Append(header, hlen);
  if (st.ok()) st = Append(reinterpret_cast<const uint8_t*>(stored.data()), stored.size());
  if (!st.ok()) return Fail(st);

  uint8_t k[kKeySize];
  key.EncodeTo(k);
  st = tree_.Append(k, offset);
  if (!st.ok()) return Fail(st.WithContext(path_));
  last_key_ = key;
  has_last_ = true;
  return Status::OK();
}

Result<uint64_t> ImageLayerWriterImpl::Finish() {
  if (!failed_.ok()) return failed_;
  if (finished_) return Status::Internal(fmt::format("{}: Finish called twice", path_));
  if (tree_.num_entries() == 0) {
    return Status::Internal(
        fmt::format("{}: cannot finish an image layer with no keys (Neon cannot read it)", path_));
  }
  finished_ = true;

  // §4.5: zero padding up to the next block boundary; S = ceil(E / 8192).
  static const uint8_t kZeros[kLayerBlockSize] = {};
  const size_t pad = size_t((kLayerBlockSize - end_off_ % kLayerBlockSize) % kLayerBlockSize);
  Status st = Append(kZeros, pad);
  if (!st.ok()) return Fail(st);
  const uint64_t index_start_blk = end_off_ / kLayerBlockSize;
  if (index_start_blk > UINT32_MAX) {
    return Fail(Status::InvalidInput(fmt::format("{}: value area too large", path_)));
  }

  // §5.5 FINISH, then the nodes in emission order from block S.
  auto root = tree_.Finish();
  if (!root.ok()) return Fail(root.status().WithContext(path_));
  const std::string& blocks = tree_.blocks();
  st = Append(reinterpret_cast<const uint8_t*>(blocks.data()), blocks.size());
  if (st.ok()) st = FlushBuffer();
  if (!st.ok()) return Fail(st);

  // §3: the summary is the last write, at offset 0.
  summary_.index_start_blk = uint32_t(index_start_blk);
  summary_.index_root_blk = *root;
  const std::string block0 = EncodeSummaryBlock(summary_);
  st = PWriteAll(reinterpret_cast<const uint8_t*>(block0.data()), block0.size(), 0);
  if (!st.ok()) return Fail(st);

  if (sync_ && ::fsync(fd_) != 0) {
    return Fail(Status::Io(fmt::format("{}: fsync failed: {}", path_, std::strerror(errno))));
  }
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    return Fail(Status::Io(fmt::format("{}: close failed: {}", path_, std::strerror(errno))));
  }
  return end_off_;
}

}  // namespace

Result<std::unique_ptr<ImageLayerWriter>> ImageLayerWriter::Create(
    const std::string& path, const TenantId& tenant, const TimelineId& timeline, const Key& start,
    const Key& end, uint64_t lsn, const ImageLayerWriterOptions& opts) {
  if (!(start < end)) {
    return Status::Internal(fmt::format("{}: empty key range [{}, {})", path, start.ToHex(),
                                        end.ToHex()));
  }
  if (opts.zstd && (opts.zstd_level < -7 || opts.zstd_level > 22)) {
    return Status::Usage(fmt::format("zstd level {} out of range", opts.zstd_level));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Io(fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
  }
  return std::unique_ptr<ImageLayerWriter>(
      new ImageLayerWriterImpl(path, fd, tenant, timeline, start, end, lsn, opts));
}

}  // namespace p2l
