#!/usr/bin/env python3
"""bench_report.py RUNS JSON KEY=VALUE...: the summary of scripts/bench.sh.

RUNS holds one line per measured run: "case=NAME scale=S round=R wall=.. user=.. sys=.. maxrss_kb=..
rchar=.. ... [bytes=..] [source_bytes=..] [out_bytes=..]" (test/tools/bench_run.cc and bench.sh).
Prints a table of medians and ratios and the targets of issue 7, and writes everything to JSON.
The KEY=VALUE arguments (scale, scale2, reps, jobs, machine, ...) go to the JSON "meta" object;
rtt_ms (the per-request delay of the s3_import_rtt / curl_rtt cases, through test/tools/fault_proxy
--latency-ms) and rtt_import_requests (requests per s3_import_rtt run) label those cases.
"""
import json
import statistics
import sys


def parse(path):
    runs = []
    for line in open(path):
        rec = {}
        for tok in line.split():
            k, _, v = tok.partition("=")
            try:
                rec[k] = int(v)
            except ValueError:
                try:
                    rec[k] = float(v)
                except ValueError:
                    rec[k] = v
        if "case" in rec:
            rec["cpu"] = rec.get("user", 0) + rec.get("sys", 0)
            runs.append(rec)
    return runs


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    runs_path, json_path = sys.argv[1], sys.argv[2]
    meta = dict(a.split("=", 1) for a in sys.argv[3:])
    scale, scale2 = int(meta.get("scale", 0)), int(meta.get("scale2", 0))
    scale1 = int(meta.get("scale1", 0)) or scale   # the smaller size of the scaling pair
    runs = parse(runs_path)

    def of(case, sc=scale):
        return [r for r in runs if r["case"] == case and r["scale"] == sc]

    def summary(case, sc=scale):
        rs = of(case, sc)
        if not rs:
            return None
        s = {k: med([r.get(k) for r in rs]) for k in
             ("wall", "cpu", "user", "sys", "maxrss_kb", "rchar", "read_bytes", "wchar", "bytes",
              "source_bytes", "out_bytes", "layers", "plan_jobs", "gets")}
        s = {k: v for k, v in s.items() if v is not None}
        s["runs"] = len(rs)
        s["walls"] = [r["wall"] for r in rs]
        return s

    cases = {}
    for c in ("cp", "cp_sync", "import", "import_nosync", "import_zstd", "s3_import", "curl", "s3_import_rtt",
              "curl_rtt", "pg_dump"):
        s = summary(c)
        if s:
            cases[c] = s
    # 4 shards: per round the sum of the 4 processes (max for RSS), then medians over rounds
    shard_rounds = {}
    for r in runs:
        if r["case"].startswith("shard") and r["scale"] == scale:
            a = shard_rounds.setdefault(r["round"], {"wall": 0, "cpu": 0, "rchar": 0, "read_bytes": 0,
                                                      "source_bytes": 0, "maxrss_kb": 0, "n": 0})
            for k in ("wall", "cpu", "rchar", "read_bytes", "source_bytes"):
                a[k] += r.get(k, 0)
            a["maxrss_kb"] = max(a["maxrss_kb"], r.get("maxrss_kb", 0))
            a["n"] += 1
    full = [a for a in shard_rounds.values() if a["n"] == 4]
    if full:
        cases["shards4"] = {k: med([a[k] for a in full]) for k in ("wall", "cpu", "rchar", "read_bytes",
                                                                    "source_bytes", "maxrss_kb")}
        cases["shards4"]["runs"] = len(full)
    if scale2:
        for sc in sorted({scale1, scale2} - {scale}):
            for c in ("cp", "cp_sync", "import"):
                s = summary(c, sc)
                if s:
                    cases[f"{c}@{sc}"] = s

    MiB = 1 << 20

    def mbps(nbytes, wall):
        return nbytes / MiB / wall if nbytes and wall else None

    def ratio(a, b):
        return a / b if a is not None and b else None

    imp, cp = cases.get("import"), cases.get("cp")
    derived, targets = {}, []

    def target(name, value, limit, ok, fmt="{:.2f}"):
        targets.append({"target": name, "value": value, "limit": limit,
                        "met": None if value is None else bool(ok(value))})

    if imp and cp:
        derived["import_over_cp_wall"] = ratio(imp["wall"], cp["wall"])
        target("local import wall <= 1.25 x cp -r", derived["import_over_cp_wall"], 1.25, lambda v: v <= 1.25)
        derived["import_over_cp_cpu"] = ratio(imp["cpu"], cp["cpu"])
        if cases.get("cp_sync"):
            derived["import_over_cp_sync_wall"] = ratio(imp["wall"], cases["cp_sync"]["wall"])
    nosync = cases.get("import_nosync")
    if nosync and cp:
        derived["import_nosync_over_cp_wall"] = ratio(nosync["wall"], cp["wall"])
        target("local import (--no-sync) wall <= 1.25 x cp -r", derived["import_nosync_over_cp_wall"], 1.25,
               lambda v: v <= 1.25)
        derived["import_nosync_over_cp_cpu"] = ratio(nosync["cpu"], cp["cpu"])
        if imp:
            derived["import_nosync_over_import_wall"] = ratio(nosync["wall"], imp["wall"])
    if "s3_import" in cases and "curl" in cases:
        s3, cu = cases["s3_import"], cases["curl"]
        derived["s3_import_MiBps"] = mbps(s3.get("source_bytes"), s3["wall"])
        derived["curl_MiBps"] = mbps(cu.get("bytes"), cu["wall"])
        derived["s3_over_curl_throughput"] = ratio(derived["s3_import_MiBps"], derived["curl_MiBps"])
        target("S3 import >= 90% of parallel curl throughput", derived["s3_over_curl_throughput"], 0.9,
               lambda v: v >= 0.9)
    if "s3_import_rtt" in cases and "curl_rtt" in cases:
        s3, cu = cases["s3_import_rtt"], cases["curl_rtt"]
        rtt = meta.get("rtt_ms", "?")
        derived["s3_rtt_import_MiBps"] = mbps(s3.get("source_bytes"), s3["wall"])
        derived["curl_rtt_MiBps"] = mbps(cu.get("bytes"), cu["wall"])
        derived["s3_rtt_over_curl_rtt_throughput"] = ratio(derived["s3_rtt_import_MiBps"], derived["curl_rtt_MiBps"])
        target(f"S3 import >= 90% of curl, endpoint with {rtt} ms per request",
               derived["s3_rtt_over_curl_rtt_throughput"], 0.9, lambda v: v >= 0.9)
    rss_runs = [r["maxrss_kb"] for r in runs if r["case"] in ("import", "import_nosync", "import_zstd", "s3_import",
                                                              "s3_import_rtt")
                or r["case"].startswith("shard")]
    if rss_runs:
        derived["max_import_rss_MiB"] = max(rss_runs) / 1024
        target("peak RSS <= 256 MiB", derived["max_import_rss_MiB"], 256, lambda v: v <= 256)
    if "shards4" in cases and imp:
        derived["shards4_over_unsharded_rchar"] = ratio(cases["shards4"]["rchar"], imp["rchar"])
        derived["shards4_over_unsharded_cpu"] = ratio(cases["shards4"]["cpu"], imp["cpu"])
        derived["shards4_over_unsharded_wall"] = ratio(cases["shards4"]["wall"], imp["wall"])
        target("4 shards read <= 1.1 x unsharded bytes", derived["shards4_over_unsharded_rchar"], 1.1,
               lambda v: v <= 1.1)
    if "import_zstd" in cases and imp:
        z = cases["import_zstd"]
        derived["zstd_MiBps"] = mbps(z.get("source_bytes"), z["wall"])
        derived["zstd_size_ratio"] = ratio(z.get("out_bytes"), imp.get("out_bytes"))
        derived["zstd_over_plain_wall"] = ratio(z["wall"], imp["wall"])
    if imp:
        derived["import_MiBps"] = mbps(imp.get("source_bytes"), imp["wall"])
    if cp:
        derived["cp_MiBps"] = mbps(cp.get("bytes"), cp["wall"])
    if "pg_dump" in cases and imp:
        derived["pg_dump_over_import_wall"] = ratio(cases["pg_dump"]["wall"], imp["wall"])
    big = cases.get(f"import@{scale2}")
    at1 = (lambda c: cases.get(c)) if scale1 == scale else (lambda c: cases.get(f"{c}@{scale1}"))
    small, small_cp = at1("import"), at1("cp")
    for sc in sorted({scale1, scale2} - {scale}):
        i, c, cs = cases.get(f"import@{sc}"), cases.get(f"cp@{sc}"), cases.get(f"cp_sync@{sc}")
        if i and c:
            derived[f"import_over_cp_wall@{sc}"] = ratio(i["wall"], c["wall"])
        if i and cs:
            derived[f"import_over_cp_sync_wall@{sc}"] = ratio(i["wall"], cs["wall"])
    if big and small:
        size_ratio = ratio(big.get("source_bytes"), small.get("source_bytes"))
        derived["scaling_sizes"] = f"{scale1} -> {scale2}"
        derived["scaling_size_ratio"] = size_ratio
        derived["scaling_time_ratio"] = ratio(big["wall"], small["wall"])
        derived["scaling_rss_ratio"] = ratio(big["maxrss_kb"], small["maxrss_kb"])
        if cases.get(f"cp@{scale2}") and small_cp:
            derived["scaling_cp_time_ratio"] = ratio(cases[f"cp@{scale2}"]["wall"], small_cp["wall"])
        if size_ratio:
            derived["scaling_time_over_size"] = ratio(derived["scaling_time_ratio"], size_ratio)
            target("time grows linearly (time ratio <= 1.1 x size ratio)", derived["scaling_time_over_size"],
                   1.1, lambda v: v <= 1.1)
        target("RSS flat between sizes (ratio <= 1.1)", derived["scaling_rss_ratio"], 1.1, lambda v: v <= 1.1)

    # ---- table
    def f(v, spec="{:.2f}"):
        return "-" if v is None else spec.format(v)

    print(f"\npgdata2layers benchmark  (PostgreSQL {meta.get('major')}, scale {scale}"
          f"{f', scaling {scale1} and {scale2}' if scale2 else ''}, {meta.get('reps')} rounds,"
          f" --jobs {meta.get('jobs')})")
    print(f"machine: {meta.get('machine')}")
    print("medians over the rounds; MiB/s = source bytes / wall")
    if cases.get("s3_import_rtt") or cases.get("curl_rtt"):
        reqs = meta.get("rtt_import_requests")
        print(f"*_rtt: through test/tools/fault_proxy delaying every request by {meta.get('rtt_ms')} ms (a simulated"
              f" round trip){f'; {reqs} requests per import' if reqs else ''}")
    print()
    hdr = f"{'case':<16}{'wall s':>9}{'cpu s':>8}{'RSS MiB':>9}{'read MiB':>10}{'src MiB':>9}{'out MiB':>9}{'MiB/s':>8}"
    print(hdr)
    print("-" * len(hdr))
    for name, s in cases.items():
        nbytes = s.get("source_bytes") or s.get("bytes")
        print(f"{name:<16}{f(s.get('wall')):>9}{f(s.get('cpu')):>8}{f(s.get('maxrss_kb', 0) / 1024, '{:.1f}'):>9}"
              f"{f((s.get('rchar') or 0) / MiB, '{:.1f}'):>10}{f((nbytes or 0) / MiB, '{:.1f}'):>9}"
              f"{f((s.get('out_bytes') or 0) / MiB, '{:.1f}'):>9}{f(mbps(nbytes, s.get('wall')), '{:.0f}'):>8}")
    print("\nratios:")
    for k, v in derived.items():
        print(f"  {k:<34}{v if isinstance(v, str) else f(v, '{:.3f}')}")
    print("\ntargets (issue 7):")
    width = max([55] + [len(t["target"]) + 1 for t in targets])
    for t in targets:
        met = "?" if t["met"] is None else ("met" if t["met"] else "MISSED")
        print(f"  {met:<7}{t['target']:<{width}}{f(t['value'], '{:.3f}')}  (limit {t['limit']})")
    print(f"\noutputs byte-identical across rounds: {'yes' if meta.get('identical') == '1' else 'NO'}")

    with open(json_path, "w") as out:
        json.dump({"meta": meta, "cases": cases, "derived": derived, "targets": targets, "runs": runs}, out,
                  indent=1, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main()
