#!/usr/bin/env python3
"""bench_report.py RUNS JSON KEY=VALUE...: the summary of scripts/bench.sh.

RUNS holds one line per measured run: "case=NAME scale=S round=R wall=.. user=.. sys=.. maxrss_kb=..
rchar=.. ... [bytes=..] [source_bytes=..] [out_bytes=..]" (test/tools/bench_run.cc and bench.sh).
Prints a table of medians and ratios and the targets of issue 7, and writes everything to JSON.
The KEY=VALUE arguments (scale, scale2, reps, jobs, machine, ...) go to the JSON "meta" object.
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
    for c in ("cp", "cp_sync", "import", "import_zstd", "s3_import", "curl", "pg_dump"):
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
        for c in ("cp", "cp_sync", "import"):
            s = summary(c, scale2)
            if s:
                cases[f"{c}@{scale2}"] = s

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
    if "s3_import" in cases and "curl" in cases:
        s3, cu = cases["s3_import"], cases["curl"]
        derived["s3_import_MiBps"] = mbps(s3.get("source_bytes"), s3["wall"])
        derived["curl_MiBps"] = mbps(cu.get("bytes"), cu["wall"])
        derived["s3_over_curl_throughput"] = ratio(derived["s3_import_MiBps"], derived["curl_MiBps"])
        target("S3 import >= 90% of parallel curl throughput", derived["s3_over_curl_throughput"], 0.9,
               lambda v: v >= 0.9)
    rss_runs = [r["maxrss_kb"] for r in runs if r["case"] in ("import", "import_zstd", "s3_import")
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
    if big and imp:
        size_ratio = ratio(big.get("source_bytes"), imp.get("source_bytes"))
        derived["scaling_size_ratio"] = size_ratio
        derived["scaling_time_ratio"] = ratio(big["wall"], imp["wall"])
        derived["scaling_rss_ratio"] = ratio(big["maxrss_kb"], imp["maxrss_kb"])
        if cases.get(f"cp@{scale2}") and cp:
            derived["scaling_cp_time_ratio"] = ratio(cases[f"cp@{scale2}"]["wall"], cp["wall"])
            derived[f"import_over_cp_wall@{scale2}"] = ratio(big["wall"], cases[f"cp@{scale2}"]["wall"])
        if cases.get(f"cp_sync@{scale2}"):
            derived[f"import_over_cp_sync_wall@{scale2}"] = ratio(big["wall"], cases[f"cp_sync@{scale2}"]["wall"])
        if size_ratio:
            derived["scaling_time_over_size"] = ratio(derived["scaling_time_ratio"], size_ratio)
            target("time grows linearly (time ratio <= 1.1 x size ratio)", derived["scaling_time_over_size"],
                   1.1, lambda v: v <= 1.1)
        target("RSS flat between sizes (ratio <= 1.1)", derived["scaling_rss_ratio"], 1.1, lambda v: v <= 1.1)

    # ---- table
    def f(v, spec="{:.2f}"):
        return "-" if v is None else spec.format(v)

    print(f"\npgdata2layers benchmark  (PostgreSQL {meta.get('major')}, scale {scale}"
          f"{f', scale2 {scale2}' if scale2 else ''}, {meta.get('reps')} rounds, --jobs {meta.get('jobs')})")
    print(f"machine: {meta.get('machine')}")
    print("medians over the rounds; MiB/s = source bytes / wall\n")
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
        print(f"  {k:<34}{f(v, '{:.3f}')}")
    print("\ntargets (issue 7):")
    for t in targets:
        met = "?" if t["met"] is None else ("met" if t["met"] else "MISSED")
        print(f"  {met:<7}{t['target']:<55}{f(t['value'], '{:.3f}')}  (limit {t['limit']})")
    print(f"\noutputs byte-identical across rounds: {'yes' if meta.get('identical') == '1' else 'NO'}")

    with open(json_path, "w") as out:
        json.dump({"meta": meta, "cases": cases, "derived": derived, "targets": targets, "runs": runs}, out,
                  indent=1, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main()
