#!/usr/bin/env python3
"""A small, deliberately hostile S3 server for test/integration/t_hostile.sh (127.0.0.1 only).

    fake_s3.py --root DIR [--scenario test/hostile/s3/NAME/scenario.json] [--port-file FILE]

Serves the files under DIR/<bucket>/ as objects (path-style requests: /<bucket>/<key>), answers
HEAD bucket, HEAD/GET object (with Range) and ListObjectsV2 (prefix, delimiter, one page)
generated from the tree. It never checks signatures: it is not a test of authentication, but of
what the client does with what a server answers. A scenario replaces some answers with canned
ones, which a real S3 server (or s3rver) would never send:

  {
    "list":    [ {"prefix": "src/base/5/", "body_file": "list.xml"},          # canned page
                 {"prefix": "src/base/", "body_gen": "deep_xml", "n": 400000},
                 {"prefix": "...", "status": 500, "body": "..."} ],
    "objects": [ {"key": "src/global/pg_control", "method": "GET",           # GET, HEAD or ANY
                  "status": 200, "headers": {"Content-Length": "2147483648"},
                  "body_file": "short.bin" | "body": "text", "close": true} ]
  }

A canned "list" entry answers every ListObjectsV2 request whose prefix is exactly "prefix" (any
continuation token). A canned object entry answers requests for "key"; its "headers" are sent
as given (a lying Content-Length included) followed by the body, after which the connection is
closed. Body generators: "deep_xml" (n nested elements), "xml_bomb" (billion laughs), "big_xml"
(n bytes of a valid-looking listing).

Prints "PORT=<port>" on stdout (and into --port-file) once it listens.
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


def gen_body(spec):
    kind = spec.get("body_gen")
    n = int(spec.get("n", 1000))
    if kind == "deep_xml":
        head = '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>'
        return (head + "<a>" * n + "</a>" * n + "</ListBucketResult>").encode()
    if kind == "xml_bomb":
        ents = ['<!ENTITY l0 "lollollollollollollollollollol">']
        for i in range(1, 10):
            ents.append('<!ENTITY l%d "%s">' % (i, ("&l%d;" % (i - 1)) * 10))
        return ('<?xml version="1.0"?>\n<!DOCTYPE ListBucketResult [' + "".join(ents) + "]>\n"
                "<ListBucketResult><IsTruncated>false</IsTruncated>"
                "<Contents><Key>%s&l9;</Key><Size>&l9;</Size><ETag>\"e\"</ETag></Contents>"
                "</ListBucketResult>" % escape(spec.get("key_prefix", ""))).encode()
    if kind == "big_xml":
        head = b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><IsTruncated>false</IsTruncated>'
        entry = b"<Contents><Key>" + spec.get("key_prefix", "").encode() + b"x</Key><Size>1</Size><ETag>\"e\"</ETag></Contents>"
        return head + entry * (n // len(entry) + 1) + b"</ListBucketResult>"
    raise ValueError("unknown body_gen %r" % kind)


class State:
    def __init__(self, root, scenario_path):
        self.root = root
        self.scenario = {"list": [], "objects": []}
        self.scenario_dir = None
        if scenario_path:
            with open(scenario_path) as f:
                self.scenario.update(json.load(f))
            self.scenario_dir = os.path.dirname(os.path.abspath(scenario_path))
        self.cache = {}
        self.lock = threading.Lock()

    def body_of(self, spec):
        if "body" in spec:
            return spec["body"].encode()
        if "body_file" in spec:
            with open(os.path.join(self.scenario_dir, spec["body_file"]), "rb") as f:
                return f.read()
        if "body_gen" in spec:
            key = json.dumps(spec, sort_keys=True)
            with self.lock:
                if key not in self.cache:
                    self.cache[key] = gen_body(spec)
                return self.cache[key]
        return b""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet: the test prints the request log on failure
        sys.stderr.write("fake_s3: %s %s\n" % (self.command, self.path))

    # ------------------------------------------------------------------ helpers
    def reply(self, status, body=b"", headers=None, head_only=False, close=False):
        self.send_response(status)
        hdrs = {"Content-Length": str(len(body)), "x-amz-request-id": "HOSTILE"}
        if headers:
            hdrs.update(headers)
        for k, v in hdrs.items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head_only:
            try:
                self.wfile.write(body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
        if close:
            self.close_connection = True

    def error(self, status, code, msg, head_only=False):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
                "<RequestId>HOSTILE</RequestId></Error>" % (code, escape(msg))).encode()
        self.reply(status, body, {"Content-Type": "application/xml"}, head_only)

    def split(self):
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.lstrip("/").split("/", 1)
        bucket = urllib.parse.unquote(parts[0])
        key = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
        return bucket, key, urllib.parse.parse_qs(u.query, keep_blank_values=True)

    def canned_object(self, key, method):
        for o in STATE.scenario.get("objects", []):
            if o.get("key") == key and o.get("method", "ANY") in ("ANY", method):
                return o
        return None

    # ------------------------------------------------------------------ verbs
    def do_HEAD(self):
        self.serve(head_only=True)

    def do_GET(self):
        self.serve(head_only=False)

    def do_PUT(self):
        self.drain()
        self.error(403, "AccessDenied", "fake_s3 is read-only")

    def do_POST(self):
        self.drain()
        self.error(403, "AccessDenied", "fake_s3 is read-only")

    def do_DELETE(self):
        self.error(403, "AccessDenied", "fake_s3 is read-only")

    def drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            chunk = self.rfile.read(min(n, 1 << 16))
            if not chunk:
                break
            n -= len(chunk)

    def serve(self, head_only):
        bucket, key, q = self.split()
        bdir = os.path.join(STATE.root, bucket)
        if not bucket or not os.path.isdir(bdir):
            return self.error(404, "NoSuchBucket", "The specified bucket does not exist", head_only)
        if not key:
            if head_only:
                return self.reply(200, head_only=True)
            if q.get("list-type") == ["2"]:
                return self.list(bdir, q)
            return self.error(400, "InvalidRequest", "fake_s3 only lists with list-type=2")
        canned = self.canned_object(key, "HEAD" if head_only else "GET")
        if canned is not None:
            body = STATE.body_of(canned)
            headers = dict(canned.get("headers", {}))
            headers.setdefault("Content-Length", str(len(body)))
            headers.setdefault("ETag", '"canned"')
            self.send_response(int(canned.get("status", 200)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Connection", "close")
            self.end_headers()
            if not head_only:
                try:
                    self.wfile.write(body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
            self.close_connection = True
            return None
        path = os.path.join(bdir, key)
        if ".." in key.split("/") or not os.path.isfile(path):
            return self.error(404, "NoSuchKey", "The specified key does not exist.", head_only)
        st = os.stat(path)
        etag = '"%s"' % hashlib.md5(("%d-%d" % (st.st_size, st.st_mtime_ns)).encode()).hexdigest()
        size = st.st_size
        rng = self.headers.get("Range")
        start, end, status = 0, size - 1, 200
        if rng and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            start = int(a) if a else 0
            end = min(int(b), size - 1) if b else size - 1
            if start >= size:
                return self.error(416, "InvalidRange", "The requested range is not satisfiable", head_only)
            status = 206
        headers = {"ETag": etag, "Content-Type": "application/octet-stream",
                   "Last-Modified": "Mon, 02 Jun 2025 10:15:30 GMT"}
        if status == 206:
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, size)
        if head_only:
            headers["Content-Length"] = str(size)
            return self.reply(200, b"", headers, head_only=True)
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        return self.reply(status, body, headers)

    def list(self, bdir, q):
        prefix = q.get("prefix", [""])[0]
        delim = q.get("delimiter", [""])[0]
        for entry in STATE.scenario.get("list", []):
            if entry.get("prefix") == prefix:
                body = STATE.body_of(entry)
                return self.reply(int(entry.get("status", 200)), body, {"Content-Type": "application/xml"})
        keys = []
        for dirpath, _dirs, files in os.walk(bdir):
            for fn in files:
                full = os.path.join(dirpath, fn)
                k = os.path.relpath(full, bdir).replace(os.sep, "/")
                if k.startswith(prefix):
                    keys.append((k, os.path.getsize(full)))
        keys.sort()
        contents, prefixes = [], set()
        for k, size in keys:
            rest = k[len(prefix):]
            if delim and delim in rest:
                prefixes.add(prefix + rest.split(delim, 1)[0] + delim)
            else:
                contents.append((k, size))
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n'
               '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
               "<Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount><MaxKeys>1000</MaxKeys>"
               % (escape(os.path.basename(bdir)), escape(prefix), len(contents) + len(prefixes)),
               "<IsTruncated>false</IsTruncated>"]
        if delim:
            out.append("<Delimiter>%s</Delimiter>" % escape(delim))
        for k, size in contents:
            out.append('<Contents><Key>%s</Key><LastModified>2025-06-02T10:15:30.000Z</LastModified>'
                       '<ETag>&quot;%s&quot;</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>'
                       % (escape(k), hashlib.md5(k.encode()).hexdigest(), size))
        for p in sorted(prefixes):
            out.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % escape(p))
        out.append("</ListBucketResult>")
        return self.reply(200, "".join(out).encode(), {"Content-Type": "application/xml"})


def main():
    global STATE
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--scenario")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    a = ap.parse_args()
    STATE = State(a.root, a.scenario)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(a.port_file + ".tmp", a.port_file)
    print("PORT=%d" % port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


STATE = None
if __name__ == "__main__":
    main()
