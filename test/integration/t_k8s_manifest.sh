#!/usr/bin/env bash
# scripts/k8s/import-job.yaml (issue #8): parses as YAML; is an Indexed batch/v1 Job whose
# completions = parallelism = PGDATA2LAYERS_SHARD_COUNT; a dry render of every pod's command
# (JOB_COMPLETION_INDEX = 0..completions-1, $(VAR) expanded from the container env as Kubernetes
# does) gives `pgdata2layers import --shard-number=i ...`, and every flag and every
# PGDATA2LAYERS_* variable it uses is one that `pgdata2layers import --help` lists.
. "$(dirname "$0")/lib.sh"
need_bin

T=$P2L_TEST_DIR
"$P2L_BIN" import --help > "$T/help.txt"
python3 - "$P2L_ROOT/scripts/k8s/import-job.yaml" "$T/help.txt" <<'EOF'
import re, sys, yaml
manifest, help_path = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(manifest)) if d is not None]
assert len(docs) == 1, len(docs)
job = docs[0]
assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job", job.get("kind")
spec = job["spec"]
assert spec["completionMode"] == "Indexed", spec
n = spec["completions"]
assert isinstance(n, int) and 1 <= n <= 255 and spec["parallelism"] == n, (n, spec["parallelism"])
pod = spec["template"]["spec"]
assert pod["restartPolicy"] in ("Never", "OnFailure")
(c,) = pod["containers"]
env = {}
for e in c["env"]:
    if "value" in e:
        assert isinstance(e["value"], str), ("env values must be strings", e)
        env[e["name"]] = e["value"]
    else:
        assert "valueFrom" in e, e
        env[e["name"]] = "<from " + next(iter(e["valueFrom"])) + ">"
assert int(env["PGDATA2LAYERS_SHARD_COUNT"]) == n, "PGDATA2LAYERS_SHARD_COUNT != completions"
assert env["PGDATA2LAYERS_SOURCE"].startswith("s3://") and env["PGDATA2LAYERS_DEST"].startswith("s3://")
help_text = open(help_path).read()
help_flags = set(re.findall(r"--[a-z][a-z0-9-]*", help_text))
help_envs = set(re.findall(r"PGDATA2LAYERS_[A-Z0-9_]+", help_text))
other_env = {"PGDATA2LAYERS_NOTIFY_TOKEN"}          # read by the importer, not a flag
for name in env:
    if name.startswith("PGDATA2LAYERS_"):
        assert name in help_envs or name in other_env, ("unknown variable", name)

def render(index):
    """What Kubernetes runs in pod `index`: $(VAR) expands from the container env."""
    full = dict(env, JOB_COMPLETION_INDEX=str(index))
    expand = lambda s: re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: full.get(m.group(1), m.group(0)), s)
    return [expand(a) for a in c["command"] + c.get("args", [])]

for i in range(n):
    argv = render(i)
    assert argv[:2] == ["pgdata2layers", "import"], argv
    assert "--shard-number=%d" % i in argv, argv
    for a in argv[2:]:
        assert "$(" not in a, ("unexpanded variable", a)
        if a.startswith("--"):
            flag = a.split("=", 1)[0]
            assert flag in help_flags, ("flag not in import --help", flag)
    shard = "%02x%02x" % (i, n)
    print("pod %d (shard %s):" % (i, shard), " ".join(argv))
EOF
