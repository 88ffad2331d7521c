#include "import/job_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "index/remote_layout.h"
#include "keyspace/keys.h"
#include "layer/image_layer_writer.h"
#include "layer/layer_name.h"
#include "pg/controlfile.h"
#include "pg/page.h"
#include "pg/relmap.h"
#include "pg/twophase.h"
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
    // A local destination fsyncs the file in Commit: have the kernel write it back while the job
    // goes on, so that fsync finds little left to do (a remote one uploads and deletes it).
    wo.start_writeback = dest_.IsLocal() && opts_.sync;
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

// Fetches the reads of a job ahead, in task order (job_writer.h "Read-ahead"). At most
// `budget` bytes are fetched but not yet taken (or in flight), plus one read when none is held.
class ReadAhead {
 public:
  struct Item {
    size_t task = 0;
    uint64_t offset = 0;
    uint64_t len = 0;
  };

  ReadAhead(Storage& source, const ImportJob& job, std::vector<Item> items, size_t threads, uint64_t budget,
            const std::atomic<bool>* cancelled)
      : source_(source), job_(job), items_(std::move(items)), slots_(items_.size()), budget_(budget),
        cancelled_(cancelled) {
    threads = std::min(threads, items_.size());
    for (size_t i = 0; i < threads; i++) threads_.emplace_back([this] { Worker(); });
  }
  ~ReadAhead() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // True when the next read fetched ahead belongs to task `t` (only the consumer calls these two).
  bool Has(size_t t) const { return taken_ < items_.size() && items_[taken_].task == t; }
  // Waits for that read; it must be [offset, offset+len) of the task's object.
  Result<std::unique_ptr<uint8_t[]>> Take(uint64_t offset, uint64_t len) {
    const size_t i = taken_++;
    Slot s;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return slots_[i].done; });
      s = std::move(slots_[i]);
      held_ -= items_[i].len;
    }
    cv_.notify_all();
    if (!s.st.ok()) return s.st;
    if (items_[i].offset != offset || items_[i].len != len) {
      return Status::Internal(fmt::format("job {}: read-ahead of task {} has range {}+{}, the task reads {}+{}",
                                          job_.index, items_[i].task, items_[i].offset, items_[i].len, offset, len));
    }
    return std::move(s.data);
  }

 private:
  struct Slot {
    bool done = false;
    Status st;
    std::unique_ptr<uint8_t[]> data;
  };

  void Worker() {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] {
          return stop_ || next_ >= items_.size() || held_ == 0 || held_ + items_[next_].len <= budget_;
        });
        if (stop_ || next_ >= items_.size()) return;
        i = next_++;
        held_ += items_[i].len;
      }
      Slot s;
      s.st = Fetch(items_[i], &s.data);
      s.done = true;
      {
        std::lock_guard<std::mutex> g(mu_);
        slots_[i] = std::move(s);
      }
      cv_.notify_all();
    }
  }

  Status Fetch(const Item& it, std::unique_ptr<uint8_t[]>* out) {
    if (cancelled_ != nullptr && cancelled_->load(std::memory_order_relaxed)) return Status::Internal("cancelled");
    const ImportTask& task = job_.tasks[it.task];
    P2L_ASSIGN_OR_RETURN(auto reader, source_.OpenReader(task.object.name, &task.object));
    out->reset(new uint8_t[size_t(it.len)]);
    return reader->ReadAt(it.offset, it.len, out->get());
  }

  Storage& source_;
  const ImportJob& job_;
  const std::vector<Item> items_;
  std::vector<Slot> slots_;
  const uint64_t budget_;
  const std::atomic<bool>* cancelled_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t next_ = 0;      // next item to fetch
  uint64_t held_ = 0;    // bytes fetched or in flight, not yet taken
  bool stop_ = false;
  size_t taken_ = 0;     // consumer only
  std::vector<std::thread> threads_;
};

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
    StartReadAhead();
    for (size_t t = 0; t < job_.tasks.size(); t++) {
      const ImportTask& task = job_.tasks[t];
      Status st;
      switch (task.kind) {
        case ImportTask::Kind::kSingleKey:
          st = layer_.Put(task.start, task.value);
          break;
        case ImportTask::Kind::kObjectValue:
          st = ObjectValue(t, task);
          break;
        case ImportTask::Kind::kRelBlocks:
        case ImportTask::Kind::kSlruBlocks:
          st = Blocks(t, task);
          break;
      }
      if (!st.ok()) return st;
    }
    return layer_.Finish();
  }

 private:
  bool Cancelled() const { return cancelled_ != nullptr && cancelled_->load(std::memory_order_relaxed); }

  bool Local(const ImportTask& task, uint64_t b) const {
    return task.kind != ImportTask::Kind::kRelBlocks ||
           !opts_.shard.IsKeyDisposable(WithBlock(task.start, uint32_t(task.start.field6 + b)));
  }

  // Where a blocks task's blocks lie in its object: page index `first`, `nb` blocks. False when the
  // task fails Blocks' checks (Blocks then reports the error).
  bool BlocksSpan(const ImportTask& task, uint64_t* first, uint64_t* nb) const {
    const Key& s = task.start;
    const Key& e = task.end;
    if (!SamePrefix(s, e) || e.field6 < s.field6 || s.field6 < task.first_block) return false;
    *nb = e.field6 - s.field6;
    *first = s.field6 - task.first_block;
    return (*first + *nb) * kBlockSize <= task.object.size;
  }

  // The ranged reads of a blocks task of nb blocks, in order: blocks [b, b+run) of the task, all
  // local to this shard, at most max_range bytes (at least one block) each.
  std::vector<std::pair<uint64_t, uint64_t>> Runs(const ImportTask& task, uint64_t nb) const {
    const uint64_t cap = std::max<uint64_t>(1, opts_.max_range / kBlockSize);
    std::vector<std::pair<uint64_t, uint64_t>> runs;
    uint64_t b = 0;
    while (b < nb) {
      if (!Local(task, b)) {
        b++;
        continue;
      }
      uint64_t run = 1;
      while (b + run < nb && run < cap && Local(task, b + run)) run++;
      runs.emplace_back(b, run);
      b += run;
    }
    return runs;
  }

  // Remote sources: every read of the job that ObjectValue/Blocks will do, fetched ahead.
  void StartReadAhead() {
    if (source_.IsLocal() || opts_.read_ahead == 0) return;
    std::vector<ReadAhead::Item> items;
    for (size_t t = 0; t < job_.tasks.size(); t++) {
      const ImportTask& task = job_.tasks[t];
      if (task.kind == ImportTask::Kind::kObjectValue) {
        const uint64_t size = task.object.size;
        if (size > 0 && size <= opts_.max_object_value && size <= opts_.max_range) items.push_back({t, 0, size});
      } else if (task.kind != ImportTask::Kind::kSingleKey) {
        uint64_t first = 0, nb = 0;
        if (!BlocksSpan(task, &first, &nb)) continue;
        for (const auto& [b, run] : Runs(task, nb)) items.push_back({t, (first + b) * kBlockSize, run * kBlockSize});
      }
    }
    if (items.size() < 2) return;
    ahead_ = std::make_unique<ReadAhead>(source_, job_, std::move(items), opts_.read_ahead,
                                         2 * std::max<uint64_t>(opts_.max_range, kBlockSize), cancelled_);
  }

  Status ObjectValue(size_t t, const ImportTask& task) {
    if (task.object.size > opts_.max_object_value) {
      return Status::InvalidInput(fmt::format("{}: {} bytes is larger than the {} bytes allowed for a single value",
                                              source_.Describe(task.object.name), task.object.size,
                                              opts_.max_object_value));
    }
    std::string value(size_t(task.object.size), '\0');
    if (ahead_ && ahead_->Has(t)) {
      P2L_ASSIGN_OR_RETURN(auto data, ahead_->Take(0, value.size()));
      std::memcpy(value.data(), data.get(), value.size());
    } else {
      P2L_ASSIGN_OR_RETURN(auto reader, source_.OpenReader(task.object.name, &task.object));
      if (!value.empty()) {
        P2L_RETURN_IF_ERROR(reader->ReadAt(0, value.size(), reinterpret_cast<uint8_t*>(value.data())));
      }
    }
    out_->bytes_read += value.size();
    // PostgreSQL refuses to start on a bad relation map or two-phase file: so does the import.
    Status valid;
    if (IsRelmapFileKey(task.start)) valid = CheckRelmap(value, opts_.pg_major);
    if (IsTwoPhaseFileKey(task.start)) valid = CheckTwoPhaseFile(value);
    if (!valid.ok()) return valid.WithContext(source_.Describe(task.object.name));
    return layer_.Put(task.start, value);
  }

  Status Blocks(size_t t, const ImportTask& task) {
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

    std::unique_ptr<RandomReader> reader;
    std::unique_ptr<uint8_t[]> ahead_data;
    for (const auto& [b, run] : Runs(task, nb)) {
      if (Cancelled()) return Status::Internal("cancelled");
      const size_t len = size_t(run * kBlockSize);
      const uint8_t* data = nullptr;
      if (ahead_ && ahead_->Has(t)) {
        P2L_ASSIGN_OR_RETURN(ahead_data, ahead_->Take((first + b) * kBlockSize, len));
        data = ahead_data.get();
      } else {
        if (!reader) {
          P2L_ASSIGN_OR_RETURN(reader, source_.OpenReader(task.object.name, &task.object));
        }
        if (buf_size_ < len) {
          buf_size_ = size_t(std::min<uint64_t>(cap, nb) * kBlockSize);
          buf_.reset(new uint8_t[buf_size_]);
        }
        P2L_RETURN_IF_ERROR(reader->ReadAt((first + b) * kBlockSize, len, buf_.get()));
        data = buf_.get();
      }
      out_->bytes_read += len;
      for (uint64_t i = 0; i < run; i++) {
        const uint8_t* page = data + i * kBlockSize;
        const uint32_t blk = uint32_t(s.field6 + b + i);   // absolute block number in the fork / segment
        if (rel && task.verify_pages) P2L_RETURN_IF_ERROR(Verify(task, what, page, blk, first + b + i));
        P2L_RETURN_IF_ERROR(layer_.Put(WithBlock(s, blk),
                                       std::string_view(reinterpret_cast<const char*>(page), kBlockSize)));
      }
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
  std::unique_ptr<ReadAhead> ahead_;   // remote sources: the job's reads, fetched ahead
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
