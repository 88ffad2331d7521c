// storage_tool: exercises the Storage interface from the command line (integration tests).
//
//   storage_tool [options] URL ls [DIR]               "obj NAME SIZE VERSION" / "dir PREFIX" lines
//   storage_tool [options] URL ls-r [PREFIX]          "NAME SIZE" lines
//   storage_tool [options] URL stat NAME              "NAME SIZE VERSION"
//   storage_tool [options] URL get NAME [OFFSET LEN]  bytes to stdout (ranged reads of --chunk bytes)
//   storage_tool [options] URL put NAME FILE          Put (whole file in memory; FILE "-" = stdin)
//   storage_tool [options] URL put-file NAME FILE     Stage + copy + Commit (multipart when large)
//   storage_tool [options] URL put-if-absent NAME FILE
//   storage_tool [options] URL delete NAME
//   storage_tool [options] URL put-many DIR COUNT     Put DIR/obj-00000 ... (content = the name), 8 threads
// Options: --endpoint URL --region R --max-retries N --timeout SECONDS --concurrency N
//          --max-bandwidth BYTES --multipart-threshold BYTES --part-size BYTES --tmp-dir DIR
//          --follow-symlinks-in DIR (repeatable) --chunk BYTES --expect-size N --expect-version V
// Errors: "storage_tool: MESSAGE" on stderr, exit code ExitCodeFor(code) (e.g. 5 for kConflict).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <atomic>
#include <mutex>
#include <vector>

#include "storage/storage.h"
#include "util/status.h"

using namespace p2l;

namespace {

int Fail(const Status& st) {
  std::fprintf(stderr, "storage_tool: %s\n", st.message().c_str());
  return ExitCodeFor(st.code());
}

int Usage(const std::string& msg) {
  std::fprintf(stderr, "storage_tool: %s\n(see the comment at the top of test/tools/storage_tool.cc)\n", msg.c_str());
  return 2;
}

Result<std::string> ReadFileAll(const std::string& path) {
  std::string data;
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteOut(const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(1, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  StorageOptions opts;
  uint64_t chunk = 8 << 20;
  bool have_expect = false;
  ObjectInfo expect;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "storage_tool: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--endpoint") opts.endpoint = val();
    else if (a == "--region") opts.region = val();
    else if (a == "--max-retries") opts.max_retries = std::stoi(val());
    else if (a == "--timeout") opts.timeout_seconds = std::stoi(val());
    else if (a == "--concurrency") opts.concurrency = std::stoi(val());
    else if (a == "--max-bandwidth") opts.max_bandwidth = std::stoull(val());
    else if (a == "--multipart-threshold") opts.multipart_threshold = std::stoull(val());
    else if (a == "--part-size") opts.part_size = std::stoull(val());
    else if (a == "--tmp-dir") opts.tmp_dir = val();
    else if (a == "--follow-symlinks-in") opts.follow_symlinks_in.push_back(val());
    else if (a == "--chunk") chunk = std::max<uint64_t>(1, std::stoull(val()));
    else if (a == "--expect-size") { expect.size = std::stoull(val()); have_expect = true; }
    else if (a == "--expect-version") { expect.version = val(); have_expect = true; }
    else if (a.starts_with("--")) return Usage("unknown option " + a);
    else pos.push_back(a);
  }
  if (pos.size() < 2) return Usage("need URL and a command");
  const std::string url = pos[0], cmd = pos[1];
  auto arg = [&](size_t k) -> std::string { return k < pos.size() ? pos[k] : std::string(); };

  auto st = OpenStorage(url, opts);
  if (!st.ok()) return Fail(st.status());
  Storage& s = **st;

  if (cmd == "ls") {
    auto l = s.List(arg(2));
    if (!l.ok()) return Fail(l.status());
    for (const auto& o : l->objects) std::printf("obj %s %llu %s\n", o.name.c_str(), (unsigned long long)o.size, o.version.c_str());
    for (const auto& p : l->prefixes) std::printf("dir %s\n", p.c_str());
    return 0;
  }
  if (cmd == "ls-r") {
    auto l = s.ListRecursive(arg(2));
    if (!l.ok()) return Fail(l.status());
    for (const auto& o : *l) std::printf("%s %llu\n", o.name.c_str(), (unsigned long long)o.size);
    return 0;
  }
  if (cmd == "stat") {
    auto i = s.Stat(arg(2));
    if (!i.ok()) return Fail(i.status());
    std::printf("%s %llu %s\n", i->name.c_str(), (unsigned long long)i->size, i->version.c_str());
    return 0;
  }
  if (cmd == "get") {
    auto r = s.OpenReader(arg(2), have_expect ? &expect : nullptr);
    if (!r.ok()) return Fail(r.status());
    uint64_t off = 0, len = (*r)->info().size;
    if (pos.size() >= 5) {
      off = std::stoull(pos[3]);
      len = std::stoull(pos[4]);
    }
    std::vector<uint8_t> buf(size_t(std::min<uint64_t>(chunk, std::max<uint64_t>(len, 1))));
    while (len > 0) {
      const uint64_t n = std::min<uint64_t>(len, buf.size());
      Status rs = (*r)->ReadAt(off, n, buf.data());
      if (!rs.ok()) return Fail(rs);
      if (!WriteOut(buf.data(), size_t(n))) return Fail(Status::Io("stdout: write failed"));
      off += n;
      len -= n;
    }
    return 0;
  }
  if (cmd == "put" || cmd == "put-if-absent") {
    auto data = ReadFileAll(arg(3));
    if (!data.ok()) return Fail(data.status());
    Status ps = cmd == "put" ? s.Put(arg(2), *data) : s.PutIfAbsent(arg(2), *data);
    return ps.ok() ? 0 : Fail(ps);
  }
  if (cmd == "put-file") {
    auto staged = s.Stage(arg(2));
    if (!staged.ok()) return Fail(staged.status());
    {
      std::ifstream in(arg(3), std::ios::binary);
      if (!in) return Fail(Status::Io(arg(3) + ": cannot open"));
      std::ofstream out((*staged)->local_path(), std::ios::binary | std::ios::trunc);
      out << in.rdbuf();
      out.close();
      if (!out) return Fail(Status::Io((*staged)->local_path() + ": write failed"));
    }
    Status cs = (*staged)->Commit();
    return cs.ok() ? 0 : Fail(cs);
  }
  if (cmd == "delete") {
    Status ds = s.Delete(arg(2));
    return ds.ok() ? 0 : Fail(ds);
  }
  if (cmd == "put-many") {
    const uint64_t count = std::stoull(arg(3));
    std::atomic<uint64_t> next{0};
    std::mutex mu;
    Status first;
    auto worker = [&] {
      for (;;) {
        const uint64_t i = next.fetch_add(1);
        if (i >= count) return;
        char base[32];
        std::snprintf(base, sizeof(base), "obj-%05llu", (unsigned long long)i);
        const std::string name = arg(2).empty() ? std::string(base) : arg(2) + "/" + base;
        Status ps = s.Put(name, name);
        if (!ps.ok()) {
          std::lock_guard<std::mutex> l(mu);
          if (first.ok()) first = ps;
          return;
        }
      }
    };
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; t++) ts.emplace_back(worker);
    for (auto& t : ts) t.join();
    return first.ok() ? 0 : Fail(first);
  }
  return Usage("unknown command " + cmd);
}
