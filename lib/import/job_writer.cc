#include "import/job_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "index/remote_layout.h"
#include "layer/image_layer_writer.h"
#include "layer/layer_name.h"
#include "pg/controlfile.h"
#include "pg/page.h"
#include "util/log.h"

namespace p2l {

namespace {

// The layer of one job, created at its first key.
class LazyLayer {
 public:
  LazyLayer(Storage& dest, const ImportJob& job, const JobWriterOptions& opts, JobOutput* out)
      : dest_(dest), job_(job), opts_(opts), out_(out) {}

  Status Put(const Key& key, std::string_view value) {
    if (!writer_) P2L_RETURN_IF_ERROR(Open());
    P2L_RETURN_IF_ERROR(writer_->Put(key, value).WithContext(dest_.Describe(out_->object)));
    out_->keys++;
    return Status::OK();
  }

  Status Finish() {
    if (!writer_) return Status::OK();   // no key: no layer
    P2L_ASSIGN_OR_RETURN(uint64_t size, writer_->Finish());
    writer_.reset();
    P2L_RETURN_IF_ERROR(staged_->Commit());
    staged_.reset();
    out_->wrote_layer = true;
    out_->file_size = size;
    return Status::OK();
  }

 private:
  Status Open() {
    P2L_ASSIGN_OR_RETURN(staged_, dest_.Stage(out_->object));
    ImageLayerWriterOptions wo;
    wo.zstd = opts_.zstd;
    wo.sync = false;   // StagedObject::Commit makes the object durable
    P2L_ASSIGN_OR_RETURN(writer_, ImageLayerWriter::Create(staged_->local_path(), opts_.tenant, opts_.timeline,
                                                           job_.start, job_.end, opts_.lsn, wo));
    return Status::OK();
  }

  Storage& dest_;
  const ImportJob& job_;
  const JobWriterOptions& opts_;
  JobOutput* out_;
  std::unique_ptr<StagedObject> staged_;
  std::unique_ptr<ImageLayerWriter> writer_;
};

bool SamePrefix(const Key& a, const Key& b) {
  return a.field1 == b.field1 && a.field2 == b.field2 && a.field3 == b.field3 && a.field4 == b.field4 &&
         a.field5 == b.field5;
}

Key WithBlock(Key k, uint32_t blk) {
  k.field6 = blk;
  return k;
}

const char* KindName(ImportTask::Kind k) {
  switch (k) {
    case ImportTask::Kind::kSingleKey: return "single key";
    case ImportTask::Kind::kObjectValue: return "object value";
    case ImportTask::Kind::kRelBlocks: return "relation blocks";
    case ImportTask::Kind::kSlruBlocks: return "SLRU blocks";
  }
  return "?";
}

class JobRunner {
 public:
  JobRunner(Storage& source, Storage& dest, const ImportJob& job, const JobWriterOptions& opts,
            const std::atomic<bool>* cancelled, JobOutput* out)
      : source_(source), job_(job), opts_(opts), cancelled_(cancelled), out_(out), layer_(dest, job, opts, out) {}

  Status Run() {
    for (size_t t = 0; t < job_.tasks.size(); t++) {
      const ImportTask& task = job_.tasks[t];
      Status st;
      switch (task.kind) {
        case ImportTask::Kind::kSingleKey:
          st = layer_.Put(task.start, task.value);
          break;
        case ImportTask::Kind::kObjectValue:
          st = ObjectValue(task);
          break;
        case ImportTask::Kind::kRelBlocks:
        case ImportTask::Kind::kSlruBlocks:
          st = Blocks(task);
          break;
      }
      if (!st.ok()) return st;
    }
    return layer_.Finish();
  }

 private:
  bool Cancelled() const { return cancelled_ != nullptr && cancelled_->load(std::memory_order_relaxed); }

  Status ObjectValue(const ImportTask& task) {
    if (task.object.size > opts_.max_object_value) {
      return Status::InvalidInput(fmt::format("{}: {} bytes is larger than the {} bytes allowed for a single value",
                                              source_.Describe(task.object.name), task.object.size,
                                              opts_.max_object_value));
    }
    P2L_ASSIGN_OR_RETURN(auto reader, source_.OpenReader(task.object.name, &task.object));
    std::string value(size_t(task.object.size), '\0');
    if (!value.empty()) {
      P2L_RETURN_IF_ERROR(reader->ReadAt(0, value.size(), reinterpret_cast<uint8_t*>(value.data())));
    }
    out_->bytes_read += value.size();
    return layer_.Put(task.start, value);
  }

  Status Blocks(const ImportTask& task) {
    const bool rel = task.kind == ImportTask::Kind::kRelBlocks;
    const Key& s = task.start;
    const Key& e = task.end;
    const std::string what = source_.Describe(task.object.name);
    if (!SamePrefix(s, e) || e.field6 < s.field6 || s.field6 < task.first_block) {
      return Status::Internal(fmt::format("job {}: {} task for {} has a bad key range {}..{} (first block {})",
                                          job_.index, KindName(task.kind), what, s.ToHex(), e.ToHex(),
                                          task.first_block));
    }
    const uint64_t nb = e.field6 - s.field6;
    const uint64_t first = s.field6 - task.first_block;   // page index in the object
    if (nb == 0) return Status::OK();
    if ((first + nb) * kBlockSize > task.object.size) {
      return Status::Internal(fmt::format("job {}: blocks {}..{} lie beyond the {} bytes of {}", job_.index,
                                          s.field6, e.field6, task.object.size, what));
    }
    const uint64_t cap = std::max<uint64_t>(1, opts_.max_range / kBlockSize);
    auto local = [&](uint64_t b) { return !rel || !opts_.shard.IsKeyDisposable(WithBlock(s, uint32_t(s.field6 + b))); };

    std::unique_ptr<RandomReader> reader;
    uint64_t b = 0;
    while (b < nb) {
      if (!local(b)) {
        b++;
        continue;
      }
      uint64_t run = 1;
      while (b + run < nb && run < cap && local(b + run)) run++;
      if (Cancelled()) return Status::Internal("cancelled");
      if (!reader) {
        P2L_ASSIGN_OR_RETURN(reader, source_.OpenReader(task.object.name, &task.object));
      }
      const size_t len = size_t(run * kBlockSize);
      if (buf_size_ < len) {
        buf_size_ = size_t(std::min<uint64_t>(cap, nb) * kBlockSize);
        buf_.reset(new uint8_t[buf_size_]);
      }
      P2L_RETURN_IF_ERROR(reader->ReadAt((first + b) * kBlockSize, len, buf_.get()));
      out_->bytes_read += len;
      for (uint64_t i = 0; i < run; i++) {
        const uint8_t* page = buf_.get() + i * kBlockSize;
        const uint32_t blk = uint32_t(s.field6 + b + i);   // absolute block number in the fork / segment
        if (rel && task.verify_pages) P2L_RETURN_IF_ERROR(Verify(task, what, page, blk, first + b + i));
        P2L_RETURN_IF_ERROR(layer_.Put(WithBlock(s, blk),
                                       std::string_view(reinterpret_cast<const char*>(page), kBlockSize)));
      }
      b += run;
    }
    return Status::OK();
  }

  Status Verify(const ImportTask& task, const std::string& what, const uint8_t* page, uint32_t blk,
                uint64_t page_in_file) {
    std::string why;
    PageCheck pc = CheckPage(page, blk, opts_.checksums, &why);
    if (pc == PageCheck::kOk || pc == PageCheck::kNew) return Status::OK();
    const std::string msg = fmt::format("{}: block {} of the file (block {} of the relation fork, offset {}): {}{}",
                                        what, page_in_file, blk, page_in_file * kBlockSize,
                                        pc == PageCheck::kBadChecksum ? "checksum mismatch: " : "invalid page header: ",
                                        why);
    (void)task;
    if (!opts_.ignore_checksum_failures) {
      return Status::InvalidInput(msg + " (--ignore-checksum-failures imports such pages as they are)");
    }
    LogWarn("{} (imported as is: --ignore-checksum-failures)", msg);
    out_->warnings.push_back(msg);
    return Status::OK();
  }

  Storage& source_;
  const ImportJob& job_;
  const JobWriterOptions& opts_;
  const std::atomic<bool>* cancelled_;
  JobOutput* out_;
  LazyLayer layer_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t buf_size_ = 0;
};

}  // namespace

std::string JobLayerName(const ImportJob& job, uint64_t lsn) {
  ImageLayerName n;
  n.key_start = job.start;
  n.key_end = job.end;
  n.lsn = lsn;
  return n.ToString();
}

Result<JobOutput> RunImportJob(Storage& source, Storage& dest, const ImportJob& job, const JobWriterOptions& opts,
                               const std::atomic<bool>* cancelled) {
  JobOutput out;
  out.index = job.index;
  out.layer_name = JobLayerName(job, opts.lsn);
  out.object = LayerPath(opts.tenant, opts.shard, opts.timeline, out.layer_name, opts.generation);
  JobRunner runner(source, dest, job, opts, cancelled, &out);
  Status st = runner.Run();
  if (!st.ok()) return st;
  return out;
}

}  // namespace p2l
