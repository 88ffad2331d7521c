// Image layer reader (image-layer.md §3-§5, §8, §12 item 24). Nothing read from the file is
// trusted: the summary pointers are checked against the file size, the B-tree is validated node
// by node (btree_reader.h), leaf offsets must increase inside [8192, S*8192), and each blob must
// fit before the next blob's offset (or S*8192 for the last one), as Neon's reader assumes.
#include "layer/image_layer_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "layer/blob.h"
#include "layer/btree_reader.h"
#include "layer/format.h"
#include "layer/summary.h"

namespace p2l {

namespace {

class ImageLayerReaderImpl : public ImageLayerReader {
 public:
  ImageLayerReaderImpl(std::unique_ptr<RandomReader> file, const ImageLayerSummary& s,
                       uint64_t size, const ImageLayerReaderOptions& opts)
      : file_(std::move(file)),
        name_(file_->info().name),
        summary_(s),
        size_(size),
        opts_(opts),
        num_nodes_(uint32_t(size / kLayerBlockSize - s.index_start_blk)),
        value_end_(uint64_t(s.index_start_blk) * kLayerBlockSize),
        tree_(file_.get(), s.index_start_blk, num_nodes_, s.index_root_blk, kKeySize) {
    s.key_start.EncodeTo(start_enc_);
    s.key_end.EncodeTo(end_enc_);
  }

  const ImageLayerSummary& summary() const override { return summary_; }
  uint64_t file_size() const override { return size_; }
  uint32_t num_index_nodes() const override { return num_nodes_; }

  Status ForEach(const std::function<Status(const Key&, std::string_view)>& fn) override;
  Status ForEachKey(const std::function<Status(const Key&, uint64_t offset)>& fn) override;
  Result<std::optional<std::string>> Get(const Key& key) override;

 private:
  // Checks a leaf entry against the layer: key in [start, end), offset inside the value area and
  // greater than the previous one (prev_offset = 0 for the first entry).
  Status CheckEntry(const uint8_t* key, uint64_t offset, uint64_t prev_offset) const;
  // Makes file bytes [off, off+len) (inside the value area) available in chunk_, reading at least
  // `read_ahead` bytes when it has to read. Returns a pointer to byte `off`.
  Result<const uint8_t*> Ensure(uint64_t off, uint64_t len, uint64_t read_ahead);
  // Decodes the blob at `off` whose span ends at `end`; *out views the (decompressed) value,
  // valid until the next call.
  Status ReadBlob(const Key& key, uint64_t off, uint64_t end, uint64_t read_ahead,
                  std::string_view* out);

  std::unique_ptr<RandomReader> file_;
  std::string name_;
  ImageLayerSummary summary_;
  uint64_t size_;
  ImageLayerReaderOptions opts_;
  uint32_t num_nodes_;
  uint64_t value_end_;  // S * 8192
  BTreeReader tree_;
  uint8_t start_enc_[kKeySize];
  uint8_t end_enc_[kKeySize];
  std::vector<uint8_t> chunk_;
  uint64_t chunk_off_ = 0;
  uint64_t chunk_len_ = 0;
  ZstdDecompressor zstd_;
  std::string decompressed_;
};

Status ImageLayerReaderImpl::CheckEntry(const uint8_t* key, uint64_t offset,
                                        uint64_t prev_offset) const {
  if (std::memcmp(key, start_enc_, kKeySize) < 0 || std::memcmp(key, end_enc_, kKeySize) >= 0) {
    return Status::InvalidInput(fmt::format("{}: key {} is outside the layer's key range [{}, {})",
                                            name_, Key::Decode(key).ToHex(),
                                            summary_.key_start.ToHex(), summary_.key_end.ToHex()));
  }
  if (offset < kValueAreaStart || offset >= value_end_) {
    return Status::InvalidInput(fmt::format(
        "{}: key {}: blob offset {} is outside the value area [{}, {})", name_,
        Key::Decode(key).ToHex(), offset, kValueAreaStart, value_end_));
  }
  if (prev_offset != 0 && offset <= prev_offset) {
    return Status::InvalidInput(fmt::format(
        "{}: key {}: blob offset {} is not greater than the previous key's offset {}", name_,
        Key::Decode(key).ToHex(), offset, prev_offset));
  }
  return Status::OK();
}

Result<const uint8_t*> ImageLayerReaderImpl::Ensure(uint64_t off, uint64_t len,
                                                    uint64_t read_ahead) {
  // Callers guarantee kValueAreaStart <= off and off + len <= value_end_ (<= file size).
  if (off >= chunk_off_ && off + len <= chunk_off_ + chunk_len_) {
    return chunk_.data() + (off - chunk_off_);
  }
  const uint64_t n = std::max(len, std::min(read_ahead, value_end_ - off));
  if (chunk_.size() < n) chunk_.resize(n);
  chunk_len_ = 0;
  P2L_RETURN_IF_ERROR(file_->ReadAt(off, n, chunk_.data()));
  chunk_off_ = off;
  chunk_len_ = n;
  return chunk_.data();
}

Status ImageLayerReaderImpl::ReadBlob(const Key& key, uint64_t off, uint64_t end,
                                      uint64_t read_ahead, std::string_view* out) {
  // Callers guarantee 8192 <= off < end <= value_end_.
  const uint64_t span = end - off;
  auto where = [&] {
    return fmt::format("{}: blob of key {} at offset {}", name_, key.ToHex(), off);
  };
  P2L_ASSIGN_OR_RETURN(const uint8_t* p,
                       Ensure(off, std::min<uint64_t>(span, kMaxBlobHeaderSize), read_ahead));
  BlobHeader h;
  Status st = DecodeBlobHeader(p, size_t(std::min<uint64_t>(span, kMaxBlobHeaderSize)), &h);
  if (!st.ok()) return st.WithContext(where());
  const uint64_t total = uint64_t(h.header_size) + h.len;
  if (total > span) {
    return Status::InvalidInput(fmt::format(
        "{}: header says {} stored bytes, but only {} bytes remain before {} {}", where(), h.len,
        span - h.header_size, end == value_end_ ? "the end of the value area at" : "the next blob at",
        end));
  }
  P2L_ASSIGN_OR_RETURN(p, Ensure(off, total, read_ahead));
  std::string_view stored(reinterpret_cast<const char*>(p + h.header_size), h.len);
  if (!h.zstd) {
    *out = stored;
    return Status::OK();
  }
  st = zstd_.Decompress(stored, opts_.max_decompressed_blob, &decompressed_);
  if (!st.ok()) return st.WithContext(where());
  *out = decompressed_;
  return Status::OK();
}

Status ImageLayerReaderImpl::ForEachKey(const std::function<Status(const Key&, uint64_t)>& fn) {
  uint64_t prev = 0;
  return tree_.Scan(nullptr, [&](const uint8_t* k, uint64_t off, bool*) -> Status {
    P2L_RETURN_IF_ERROR(CheckEntry(k, off, prev));
    prev = off;
    return fn(Key::Decode(k), off);
  });
}

Status ImageLayerReaderImpl::ForEach(const std::function<Status(const Key&, std::string_view)>& fn) {
  // A blob's span ends at the next key's offset, so each key is emitted when the next one (or the
  // end of the scan) is seen.
  bool pending = false;
  Key pending_key;
  uint64_t pending_off = 0;
  const uint64_t ahead = std::max<uint64_t>(opts_.scan_chunk_size, kLayerBlockSize);
  auto emit = [&](uint64_t end) -> Status {
    std::string_view value;
    P2L_RETURN_IF_ERROR(ReadBlob(pending_key, pending_off, end, ahead, &value));
    return fn(pending_key, value);
  };
  Status st = tree_.Scan(nullptr, [&](const uint8_t* k, uint64_t off, bool*) -> Status {
    P2L_RETURN_IF_ERROR(CheckEntry(k, off, pending ? pending_off : 0));
    if (pending) P2L_RETURN_IF_ERROR(emit(off));
    pending = true;
    pending_key = Key::Decode(k);
    pending_off = off;
    return Status::OK();
  });
  if (!st.ok()) return st;
  if (pending) return emit(value_end_);
  return Status::OK();
}

Result<std::optional<std::string>> ImageLayerReaderImpl::Get(const Key& key) {
  if (key < summary_.key_start || key >= summary_.key_end) return std::optional<std::string>();
  uint8_t want[kKeySize];
  key.EncodeTo(want);
  // §5.4 search: the first entry >= key; when it is the key, the next entry bounds its blob.
  bool found = false;
  uint64_t off = 0, end = value_end_;
  int seen = 0;
  Status st = tree_.Scan(want, [&](const uint8_t* k, uint64_t v, bool* stop) -> Status {
    P2L_RETURN_IF_ERROR(CheckEntry(k, v, seen == 0 ? 0 : off));
    if (seen++ == 0) {
      found = std::memcmp(k, want, kKeySize) == 0;
      off = v;
      if (!found) *stop = true;
    } else {
      end = v;
      *stop = true;
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  if (!found) return std::optional<std::string>();
  std::string_view value;
  // One read for ordinary blobs: the whole span when it is at most 1 MiB.
  const uint64_t span = end - off;
  P2L_RETURN_IF_ERROR(ReadBlob(key, off, end, span <= (1u << 20) ? span : 0, &value));
  return std::optional<std::string>(std::string(value));
}

}  // namespace

Result<std::unique_ptr<ImageLayerReader>> ImageLayerReader::Open(std::unique_ptr<RandomReader> file) {
  return Open(std::move(file), ImageLayerReaderOptions{});
}

Result<std::unique_ptr<ImageLayerReader>> ImageLayerReader::Open(
    std::unique_ptr<RandomReader> file, const ImageLayerReaderOptions& opts) {
  if (file == nullptr) return Status::Internal("ImageLayerReader::Open: no file");
  const std::string name = file->info().name;
  const uint64_t size = file->info().size;
  if (size < kLayerBlockSize) {
    return Status::InvalidInput(fmt::format(
        "{}: truncated image layer: {} bytes, less than the 8192-byte summary block", name, size));
  }
  if (size % kLayerBlockSize != 0) {
    return Status::InvalidInput(fmt::format(
        "{}: image layer size {} is not a multiple of 8192 (truncated or not a layer)", name,
        size));
  }
  uint8_t block0[kSummarySize];
  P2L_RETURN_IF_ERROR(file->ReadAt(0, kSummarySize, block0));
  P2L_ASSIGN_OR_RETURN(ImageLayerSummary s, DecodeSummary(block0, kSummarySize, name));
  if (s.magic == kDeltaFileMagic) {
    return Status::InvalidInput(fmt::format(
        "{}: summary magic 0x5A61 at offset 0: a delta layer, not an image layer", name));
  }
  if (s.magic != kImageFileMagic) {
    return Status::InvalidInput(fmt::format(
        "{}: bad magic 0x{:04X} at offset 0, expected 0x5A60 (not an image layer)", name, s.magic));
  }
  if (s.format_version != kStorageFormatVersion) {
    return Status::InvalidInput(fmt::format(
        "{}: unsupported format_version {} at offset 2, expected {}", name, s.format_version,
        kStorageFormatVersion));
  }
  const uint64_t blocks = size / kLayerBlockSize;
  if (s.index_start_blk < 2 || s.index_start_blk >= blocks) {
    return Status::InvalidInput(fmt::format(
        "{}: index_start_blk {} (offset 80) must be in [2, {}) for a file of {} blocks", name,
        s.index_start_blk, blocks, blocks));
  }
  const uint64_t nodes = blocks - s.index_start_blk;
  if (s.index_root_blk >= nodes) {
    return Status::InvalidInput(fmt::format(
        "{}: index_root_blk {} (offset 84) outside the index of {} block(s) at block {}", name,
        s.index_root_blk, nodes, s.index_start_blk));
  }
  if (nodes > UINT32_MAX) {
    return Status::InvalidInput(fmt::format("{}: index of {} blocks is too large", name, nodes));
  }
  if (!(s.key_start < s.key_end)) {
    return Status::InvalidInput(fmt::format("{}: empty key range [{}, {}) in the summary", name,
                                            s.key_start.ToHex(), s.key_end.ToHex()));
  }
  return std::unique_ptr<ImageLayerReader>(new ImageLayerReaderImpl(std::move(file), s, size, opts));
}

}  // namespace p2l
