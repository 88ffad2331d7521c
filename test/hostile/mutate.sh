# shellcheck shell=bash
# test/hostile/mutate.sh — helpers the "setup" column of test/hostile/cases.tsv uses to damage a
# fixture. Sourced by test/integration/t_hostile.sh; each setup runs in a subshell with
#   PG   the case's private copy of the small PGDATA (PostgreSQL 15, initdb only)
#   OUT  the case's destination root (a copy of a finished import for fixture "layers")
#   W    the case's scratch directory
#   T TL the tenant and timeline ids of the "layers" fixture
#   LAYER  a copy of a layer file (fixture "layer")

# ctl_u8|ctl_u32|ctl_u64 OFFSET VALUE: store VALUE little-endian at OFFSET of $PG/global/pg_control
# and recompute its CRC-32C (bytes [0, 288) -> offset 288), so only the field is wrong.
ctl_set() {
  python3 - "$PG/global/pg_control" "$1" "$2" "$3" <<'EOF'
import struct, sys
path, width, off, val = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4], 0)
b = bytearray(open(path, "rb").read())
b[off:off + width] = val.to_bytes(width, "little")
def crc32c(data):
    c = 0xFFFFFFFF
    for x in data:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF
b[288:292] = struct.pack("<I", crc32c(bytes(b[:288])))
open(path, "wb").write(bytes(b))
EOF
}
ctl_u8() { ctl_set 1 "$1" "$2"; }
ctl_u32() { ctl_set 4 "$1" "$2"; }
ctl_u64() { ctl_set 8 "$1" "$2"; }

# flip_byte FILE OFFSET: invert one byte in place (no checksum fixed)
flip_byte() {
  python3 -c 'import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[o] ^= 0xFF; open(p, "wb").write(bytes(b))' "$1" "$2"
}

# fill FILE SIZE [BYTE]: FILE becomes SIZE bytes of BYTE (default 0x5A), replacing a symlink
fill() {
  rm -f "$1"
  python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes([int(sys.argv[3], 0)]) * int(sys.argv[2]))' \
    "$1" "$2" "${3:-0x5A}"
}

# sparse FILE SIZE...: FILE becomes a sparse file of the first SIZE the file system accepts
# (ext4 stops at 16 TiB - 4 KiB: "sparse F 32T 17592186036224" falls back to 16 TiB - 8 KiB)
sparse() {
  local f=$1 s; shift
  rm -f "$f"
  for s in "$@"; do truncate -s "$s" "$f" 2>/dev/null && return 0; done
  echo "sparse: $f: no size of '$*' accepted" >&2
  return 1
}

# index_file: the index_part.json object of the "layers" fixture (one generation)
index_file() {
  local f
  f=$(find "$OUT/tenants" -name 'index_part.json*' -type f | LC_ALL=C sort | tail -n1)
  [ -n "$f" ] || { echo "index_file: no index_part.json under $OUT" >&2; return 1; }
  echo "$f"
}

# index_py 'PYTHON': run PYTHON with d = the parsed index_part.json (and first = the name of its
# first layer), then write d back (compact).
# index_text 'PYTHON': the same with s = its text (a str) — for documents JSON cannot express.
index_py() {
  python3 - "$(index_file)" "$1" <<'EOF'
import json, sys
p, code = sys.argv[1], sys.argv[2]
d = json.load(open(p))
first = next(iter(d.get("layer_metadata") or {"": 0}))   # the first layer's name
exec(code)
open(p, "w").write(json.dumps(d, separators=(",", ":")))
EOF
}
index_text() {
  python3 - "$(index_file)" "$1" <<'EOF'
import sys
p, code = sys.argv[1], sys.argv[2]
s = open(p).read()
exec(code)
open(p, "w").write(s)
EOF
}
# layer_path: a layer file of the "layers" fixture (the first in name order)
layer_path() {
  find "$OUT/tenants" -type f -name '*__*' | LC_ALL=C sort | head -n1
}
