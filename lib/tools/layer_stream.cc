#include "tools/layer_stream.h"

#include <fmt/format.h>

namespace p2l {

namespace {
constexpr size_t kItemOverhead = 64;   // bookkeeping bytes counted per item
constexpr size_t kMaxBatchItems = 1024;
}  // namespace

ShardStream::ShardStream(Storage& dest, std::vector<LayerRef> layers, ShardStreamOptions opts)
    : dest_(dest), layers_(std::move(layers)), opts_(opts) {}

ShardStream::~ShardStream() {
  {
    std::lock_guard<std::mutex> g(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ShardStream::Push(Batch* batch, size_t bytes) {
  if (batch->empty()) return true;
  std::unique_lock<std::mutex> g(mu_);
  // Always admit one batch into an empty queue, so a single oversized value cannot deadlock.
  cv_.wait(g, [&] { return cancelled_ || queue_.empty() || queued_bytes_ + bytes <= opts_.max_queued_bytes; });
  if (cancelled_) return false;
  queue_.emplace_back(std::move(*batch), bytes);
  queued_bytes_ += bytes;
  batch->clear();
  g.unlock();
  cv_.notify_all();
  return true;
}

void ShardStream::Run() {
  Status final_status;
  Batch batch;
  size_t bytes = 0;
  bool have_last = false;
  Key last;
  bool cancelled = false;
  for (uint32_t i = 0; i < layers_.size() && !cancelled; i++) {
    const LayerRef& layer = layers_[i];
    Status layer_status;
    auto reader = OpenLayer(dest_, layer, opts_.reader);
    if (!reader.ok()) {
      layer_status = reader.status();
    } else {
      const std::string where = dest_.Describe(layer.object);
      layer_status = (*reader)->ForEach([&](const Key& k, std::string_view v) -> Status {
        if (have_last && !(last < k)) {
          return Status::InvalidInput(fmt::format(
              "{}: key {} does not sort after key {} of the previous layer (the shard's layers overlap)",
              where, k.ToHex(), last.ToHex()));
        }
        have_last = true;
        last = k;
        StreamItem it;
        it.layer = i;
        it.key = k;
        it.value.assign(v.data(), v.size());
        bytes += v.size() + kItemOverhead;
        batch.push_back(std::move(it));
        if (bytes >= opts_.batch_bytes || batch.size() >= kMaxBatchItems) {
          if (!Push(&batch, bytes)) {
            cancelled = true;
            return Status::Internal("stream cancelled");
          }
          bytes = 0;
        }
        return Status::OK();
      });
      if (cancelled) break;
      // A failed layer gets context: which layer of the index.
      if (!layer_status.ok() && layer_status.message().find(where) == std::string::npos) {
        layer_status = layer_status.WithContext(where);
      }
    }
    if (!layer_status.ok()) {
      if (!opts_.continue_on_error) {
        final_status = layer_status;
        break;
      }
      StreamItem it;
      it.layer = i;
      it.error = layer_status;
      batch.push_back(std::move(it));
      bytes += kItemOverhead;
    }
  }
  if (!cancelled && !Push(&batch, bytes)) cancelled = true;
  {
    std::lock_guard<std::mutex> g(mu_);
    done_ = true;
    final_ = final_status;
  }
  cv_.notify_all();
}

Result<bool> ShardStream::Next(StreamItem* out) {
  if (!started_) {
    started_ = true;
    thread_ = std::thread([this] { Run(); });
  }
  while (pos_ >= current_.size()) {
    current_.clear();
    pos_ = 0;
    std::unique_lock<std::mutex> g(mu_);
    cv_.wait(g, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) {
      if (!final_.ok()) return final_;
      return false;
    }
    current_ = std::move(queue_.front().first);
    queued_bytes_ -= queue_.front().second;
    queue_.pop_front();
    g.unlock();
    cv_.notify_all();
  }
  *out = std::move(current_[pos_++]);
  return true;
}

}  // namespace p2l
