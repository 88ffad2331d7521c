#!/usr/bin/env python3
"""notify_server.py — a completion-notification receiver for the integration tests.

Listens on 127.0.0.1 (port 0 = any free port), prints the chosen port on the first stdout line
("PORT <n>", flushed), then serves until killed. Every POST is logged; the first K POSTs fail.

  notify_server.py [--port N] [--fail-first K] [--fail-mode 503|500|reset|stall]
                   [--retry-after SECONDS] [--status N] [--log FILE]

  --fail-first K     the first K POSTs fail as --fail-mode says (default 0)
  --fail-mode M      503 / 500: answer that status (with Retry-After if --retry-after);
                     reset: close the connection with a TCP RST, no answer;
                     stall: read the request, then answer nothing and hold the connection
                     (default 503)
  --status N         the status of accepted POSTs (default 200)
  --log FILE         append one JSON line per POST received:
                       {"n": <1-based>, "accepted": bool, "path": "...", "headers": {...},
                        "body": "<raw body text>", "json": <parsed body or null>}
                     headers are lower-cased; an Authorization header is logged as
                     "Bearer <len N>" so tests can check it without the log holding the token
                     (unless --log-secrets).

  --method M         the method notifications use (default POST; the neon format: PUT)
  --token-file FILE  require "Authorization: Bearer <FILE's content, trailing newline stripped>";
                     a request without it or with another token is answered 401 (logged with
                     "unauthorized": true, not counted towards --fail-first)

Other methods are answered 405. Stdlib only.
"""
import argparse
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--fail-mode", choices=["503", "500", "reset", "stall"], default="503")
    ap.add_argument("--retry-after", type=int, default=None)
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--log", default=None)
    ap.add_argument("--log-secrets", action="store_true")
    ap.add_argument("--method", default="POST")
    ap.add_argument("--token-file", default=None)
    args = ap.parse_args()
    want_token = None
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as f:
            want_token = f.read().rstrip("\r\n")

    lock = threading.Lock()
    state = {"n": 0}

    def log_post(entry):
        if not args.log:
            return
        with lock:
            with open(args.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")
                f.flush()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "notify_server/1"

        def log_message(self, fmt, *a):  # quiet: the test log gets our own lines
            sys.stderr.write("notify_server: %s\n" % (fmt % a))

        def _reply(self, status, extra=None):
            body = b'{"ok":true}' if 200 <= status < 300 else b'{"error":"try again"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def _notification(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            if want_token is not None and self.headers.get("Authorization") != "Bearer " + want_token:
                log_post({"n": 0, "accepted": False, "unauthorized": True, "method": self.command,
                          "path": self.path, "body": raw.decode("utf-8", errors="replace")})
                self._reply(401)
                return
            with lock:
                state["n"] += 1
                n = state["n"]
            failing = n <= args.fail_first
            headers = {k.lower(): v for k, v in self.headers.items()}
            if "authorization" in headers and not args.log_secrets:
                v = headers["authorization"]
                kind = v.split(" ", 1)[0]
                headers["authorization"] = "%s <len %d>" % (kind, len(v.split(" ", 1)[1]) if " " in v else 0)
            text = raw.decode("utf-8", errors="replace")
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            log_post({"n": n, "accepted": not failing, "method": self.command, "path": self.path, "headers": headers,
                      "body": text, "json": parsed, "mode": args.fail_mode if failing else None})
            if not failing:
                self._reply(args.status)
                return
            if args.fail_mode in ("503", "500"):
                extra = {"Retry-After": str(args.retry_after)} if args.retry_after is not None else None
                self._reply(int(args.fail_mode), extra)
            elif args.fail_mode == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
            else:  # stall: keep the connection open and silent until the client gives up
                self.close_connection = True
                try:
                    self.connection.settimeout(1.0)
                    deadline = time.time() + 3600
                    while time.time() < deadline:
                        try:
                            if self.connection.recv(1) == b"":
                                break  # client closed
                        except socket.timeout:
                            continue
                except OSError:
                    pass

        def _not_allowed(self):
            self._reply(405)

        def _dispatch(self):
            if self.command == args.method:
                self._notification()
            else:
                self._not_allowed()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", args.port), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
