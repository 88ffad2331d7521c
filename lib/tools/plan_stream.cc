#include "tools/plan_stream.h"

#include <fmt/format.h>

#include "pg/controlfile.h"

namespace p2l {

namespace {
constexpr uint32_t kChunkBlocks = 128;            // 1 MiB reads
}  // namespace

PlanStream::PlanStream(Storage& source, const ImportPlan& plan) : source_(source), plan_(plan) {}

Status PlanStream::StartTask() {
  const ImportTask& t = plan_.jobs[job_].tasks[task_];
  reader_.reset();
  chunk_.clear();
  chunk_count_ = chunk_pos_ = 0;
  if (t.kind != ImportTask::Kind::kRelBlocks && t.kind != ImportTask::Kind::kSlruBlocks) return Status::OK();
  // [start, end) differ only in field6 (one segment of one fork).
  Key same_end = t.start;
  same_end.field6 = t.end.field6;
  if (t.end < t.start || (t.end != t.start && same_end != t.end)) {
    return Status::Internal(fmt::format("plan job {}: block task [{}, {}) spans more than one fork",
                                        plan_.jobs[job_].index, t.start.ToHex(), t.end.ToHex()));
  }
  next_blk_ = t.start.field6;
  end_blk_ = t.end.field6;
  if (next_blk_ < t.first_block || uint64_t(end_blk_ - t.first_block) > t.nblocks) {
    return Status::Internal(fmt::format("plan job {}: block task [{}, {}) outside its object {} ({} blocks from {})",
                                        plan_.jobs[job_].index, t.start.ToHex(), t.end.ToHex(),
                                        t.object.name, t.nblocks, t.first_block));
  }
  return Status::OK();
}

Status PlanStream::FillChunk() {
  const ImportTask& t = plan_.jobs[job_].tasks[task_];
  const bool filter = t.kind == ImportTask::Kind::kRelBlocks;
  // Skip blocks another shard stores.
  while (next_blk_ < end_blk_ && filter) {
    Key k = t.start;
    k.field6 = next_blk_;
    if (!plan_.shard.IsKeyDisposable(k)) break;
    next_blk_++;
  }
  chunk_count_ = chunk_pos_ = 0;
  if (next_blk_ >= end_blk_) return Status::OK();
  const uint32_t n = std::min<uint32_t>(kChunkBlocks, end_blk_ - next_blk_);
  if (!reader_) {
    P2L_ASSIGN_OR_RETURN(reader_, source_.OpenReader(t.object.name, &t.object));
  }
  chunk_.resize(size_t(n) * kBlockSize);
  const uint64_t off = uint64_t(next_blk_ - t.first_block) * kBlockSize;
  P2L_RETURN_IF_ERROR(reader_->ReadAt(off, chunk_.size(), reinterpret_cast<uint8_t*>(chunk_.data())));
  chunk_first_ = next_blk_;
  chunk_count_ = n;
  next_blk_ += n;
  return Status::OK();
}

Result<bool> PlanStream::Next(Key* key, std::string* value, uint32_t* job) {
  while (job_ < plan_.jobs.size()) {
    const ImportJob& j = plan_.jobs[job_];
    if (task_ >= j.tasks.size()) {
      job_++;
      task_ = 0;
      in_task_ = false;
      continue;
    }
    const ImportTask& t = j.tasks[task_];
    if (!in_task_) {
      P2L_RETURN_IF_ERROR(StartTask());
      in_task_ = true;
    }
    bool produced = false;
    switch (t.kind) {
      case ImportTask::Kind::kSingleKey:
        *key = t.start;
        *value = t.value;
        produced = true;
        task_++;
        in_task_ = false;
        break;
      case ImportTask::Kind::kObjectValue: {
        if (t.object.size > kMaxObjectValue) {
          return Status::InvalidInput(fmt::format("{}: {} bytes, more than the {} bytes the import reads as one value",
                                                  source_.Describe(t.object.name), t.object.size, kMaxObjectValue));
        }
        P2L_ASSIGN_OR_RETURN(auto r, source_.OpenReader(t.object.name, &t.object));
        value->resize(t.object.size);
        P2L_RETURN_IF_ERROR(r->ReadAt(0, t.object.size, reinterpret_cast<uint8_t*>(value->data())));
        *key = t.start;
        produced = true;
        task_++;
        in_task_ = false;
        break;
      }
      case ImportTask::Kind::kRelBlocks:
      case ImportTask::Kind::kSlruBlocks: {
        const bool filter = t.kind == ImportTask::Kind::kRelBlocks;
        for (;;) {
          while (chunk_pos_ < chunk_count_) {
            const uint32_t blk = chunk_first_ + chunk_pos_;
            const size_t at = size_t(chunk_pos_) * kBlockSize;
            chunk_pos_++;
            Key k = t.start;
            k.field6 = blk;
            if (filter && plan_.shard.IsKeyDisposable(k)) continue;
            *key = k;
            value->assign(chunk_.data() + at, kBlockSize);
            produced = true;
            break;
          }
          if (produced) break;
          P2L_RETURN_IF_ERROR(FillChunk());
          if (chunk_count_ == 0) break;   // task done
        }
        if (!produced) {
          task_++;
          in_task_ = false;
          reader_.reset();
        }
        break;
      }
    }
    if (produced) {
      if (have_last_ && !(last_ < *key)) {
        return Status::Internal(fmt::format("plan job {}: key {} does not sort after {}", j.index,
                                            key->ToHex(), last_.ToHex()));
      }
      have_last_ = true;
      last_ = *key;
      *job = uint32_t(job_);
      return true;
    }
  }
  return false;
}

}  // namespace p2l
