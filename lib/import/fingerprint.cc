// Plan fingerprint; the encoding is specified in fingerprint.h.
#include "import/fingerprint.h"

#include <xxhash.h>

#include "util/coding.h"

namespace p2l {

namespace {

void PutU8(std::string* d, uint8_t v) { d->push_back(char(v)); }
void PutKey(std::string* d, const Key& k) {
  uint8_t b[kKeySize];
  k.EncodeTo(b);
  d->append(reinterpret_cast<const char*>(b), kKeySize);
}
void PutStr(std::string* d, std::string_view s) {
  PutLE64(d, s.size());
  d->append(s);
}

uint8_t KindCode(ImportTask::Kind k) {
  switch (k) {
    case ImportTask::Kind::kSingleKey: return 0;
    case ImportTask::Kind::kObjectValue: return 1;
    case ImportTask::Kind::kRelBlocks: return 2;
    case ImportTask::Kind::kSlruBlocks: return 3;
  }
  return 0xFF;
}

}  // namespace

std::string EncodePlanCanonical(const ImportPlan& plan) {
  std::string d;
  PutLE32(&d, kPlanFormatVersion);
  PutU8(&d, plan.shard.number);
  PutU8(&d, plan.shard.count);
  PutLE32(&d, plan.shard.stripe_size);
  PutLE64(&d, plan.soft_size_limit);
  PutLE64(&d, plan.base_lsn);
  PutLE32(&d, uint32_t(plan.control.pg_major));
  PutLE64(&d, plan.jobs.size());
  for (const ImportJob& job : plan.jobs) {
    PutLE32(&d, job.index);
    PutKey(&d, job.start);
    PutKey(&d, job.end);
    PutLE64(&d, job.tasks.size());
    for (const ImportTask& t : job.tasks) {
      PutU8(&d, KindCode(t.kind));
      PutKey(&d, t.start);
      PutKey(&d, t.end);
      if (t.kind == ImportTask::Kind::kSingleKey) {
        PutLE64(&d, t.value.size());
        PutLE64(&d, XXH64(t.value.data(), t.value.size(), 0));
      } else {
        PutStr(&d, t.object.name);
        PutLE64(&d, t.object.size);
        PutStr(&d, t.object.version);
        PutLE32(&d, t.first_block);
        PutLE32(&d, t.nblocks);
      }
    }
  }
  return d;
}

uint64_t PlanFingerprint(const ImportPlan& plan) {
  const std::string enc = EncodePlanCanonical(plan);
  return XXH64(enc.data(), enc.size(), 0);
}

uint64_t ImportPlan::Fingerprint() const { return PlanFingerprint(*this); }

}  // namespace p2l
