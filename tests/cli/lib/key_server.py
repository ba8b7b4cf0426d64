#!/usr/bin/env python3
"""A tiny S3-like server for the fluss-get CLI tests, loopback only.

    key_server.py OBJECTS_DIR STALL_FLAG

Serves one bucket whose objects are the files under OBJECTS_DIR/keys.txt:
each line of keys.txt is a key (taken verbatim: 'a//b', 'x/./y', '../z' are
keys like any other, which s3rver and curl would normalise), its body is
"body of <key>\\n" repeated to 100,000 bytes. GET of a key (whole or
`Range: bytes=A-B`) and ListObjectsV2 (`?list-type=2&prefix=P`, one page)
work; signatures are not checked. A key ending in '/' is a zero-byte folder
marker.

While the file STALL_FLAG exists, a GET sends its headers and half the body,
prints "STALLED <key>" on stdout and then hangs until the client goes away:
a download that cannot finish, to kill a fluss-get in the middle of.

Prints "PORT <n>" first; exits on SIGTERM or when stdin closes.
"""
import http.server
import os
import signal
import sys
import threading
import urllib.parse
from xml.sax.saxutils import escape

BODY_SIZE = 100_000


def body_of(key: str) -> bytes:
    if key.endswith("/"):
        return b""
    unit = ("body of " + key + "\n").encode()
    return (unit * (BODY_SIZE // len(unit) + 1))[:BODY_SIZE]


def main() -> None:
    objects_dir, stall_flag = sys.argv[1], sys.argv[2]
    with open(os.path.join(objects_dir, "keys.txt"), encoding="utf-8") as f:
        keys = sorted(line.rstrip("\n") for line in f if line.rstrip("\n"))
    out_lock = threading.Lock()

    def say(line: str) -> None:
        with out_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def send_xml(self, status: int, xml: str) -> None:
            data = xml.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            raw_path, _, raw_query = self.path.partition("?")
            path = urllib.parse.unquote(raw_path)
            query = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
            bucket, _, key = path.lstrip("/").partition("/")
            if "list-type" in query:
                prefix = query.get("prefix", [""])[0]
                items = "".join(
                    f"<Contents><Key>{escape(k)}</Key><Size>{len(body_of(k))}</Size>"
                    f"<ETag>&quot;e-{abs(hash(k))}&quot;</ETag><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
                    "</Contents>" for k in keys if k.startswith(prefix))
                self.send_xml(200, f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>{escape(bucket)}'
                                   f"</Name><IsTruncated>false</IsTruncated>{items}</ListBucketResult>")
                return
            if key not in keys:
                self.send_xml(404, f"<Error><Code>NoSuchKey</Code><Message>no such key</Message>"
                                   f"<Key>{escape(key)}</Key></Error>")
                return
            body = body_of(key)
            status, first, last = 200, 0, len(body) - 1
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes="):
                a, _, b = rng[6:].partition("-")
                first, last = int(a), min(int(b), len(body) - 1) if b else len(body) - 1
                if first >= len(body):
                    self.send_xml(416, "<Error><Code>InvalidRange</Code><Message>bad range</Message></Error>")
                    return
                status = 206
            part = body[first:last + 1]
            self.send_response(status)
            self.send_header("Content-Length", str(len(part)))
            self.send_header("ETag", f'"e-{abs(hash(key))}"')
            self.send_header("Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT")
            if status == 206:
                self.send_header("Content-Range", f"bytes {first}-{last}/{len(body)}")
            self.end_headers()
            if os.path.exists(stall_flag):
                self.wfile.write(part[:len(part) // 2])
                self.wfile.flush()
                say("STALLED " + key)
                try:
                    while self.connection.recv(4096):
                        pass
                except OSError:
                    pass
                self.close_connection = True
                return
            self.wfile.write(part)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    say(f"PORT {server.server_address[1]}")
    server.serve_forever()


if __name__ == "__main__":
    main()
