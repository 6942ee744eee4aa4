#!/usr/bin/env python3
"""Writes the sample captures of the other input formats, with their expected results,
independently of drainpipe (README "Inputs", "Records").

For each capture this script knows the records it planted and computes the expected
Heroku.Runtime values (timestamps normalised with Python's datetime) and the file:line:column
of every error, from its own bookkeeping of the bytes it writes. Tests compare drainpipe with
these files.

    python3 testdata/make_inputs.py

writes, under testdata/inputs/:
  app.syslog          syslog lines (one RFC 5424 message per line), two bad lines
  heroku-logs.txt     `heroku logs --force-colors` output: ANSI codes, continuation lines,
                      a banner line before the first message
  drain-posts.http    saved drain POSTs: Content-Length, chunked and gzip bodies, a retried
                      request, a wrong Logplex-Msg-Count, a request without Frame-Id or token
                      (a Private Space drain), a request with another token
  NAME.expected.ndjson  the records (key order as drainpipe writes them)
  NAME.errors.tsv       LINE, COLUMN, CODE of each error drainpipe must report
  drain-posts.token.tsv the errors with --drain-token d.TOKEN-GOOD
"""
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sample import normalise  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inputs")
KEYS = ["message_len", "priority", "version", "timestamp", "host_name", "app_name",
        "process_id", "message_id", "message"]


class Capture:
    """Bytes being written, with line/column bookkeeping."""

    def __init__(self):
        self.data = bytearray()

    def pos(self, extra=b""):
        """(line, column) of the byte after self.data + extra."""
        return position_after(bytes(self.data) + extra)

    def add(self, b):
        self.data += b


def position_after(d: bytes):
    """1-based (line, column) of the byte that would follow `d`."""
    return d.count(b"\n") + 1, len(d) - (d.rfind(b"\n") + 1) + 1


def record(**kw):
    r = {k: None for k in KEYS}
    r.update(kw)
    return r


def write(name, data, records, errors, extra=None):
    os.makedirs(HERE, exist_ok=True)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    stem = name.rsplit(".", 1)[0]
    with open(os.path.join(HERE, stem + ".expected.ndjson"), "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
    with open(os.path.join(HERE, stem + ".errors.tsv"), "w") as f:
        for e in errors:
            f.write("\t".join(map(str, e)) + "\n")
    for suffix, rows in (extra or {}).items():
        with open(os.path.join(HERE, stem + suffix), "w") as f:
            for e in rows:
                f.write("\t".join(map(str, e)) + "\n")


def syslog():
    c = Capture()
    records, errors = [], []
    good = [
        (158, "2026-03-01T12:00:00.000123+00:00", "host", "heroku", "router",
         'at=info method=GET path="/" status=200 bytes=1534'),
        (190, "2026-03-01T13:00:00.5+01:00", "host", "app", "web.1",
         "Started GET \"/\" for 203.0.113.7 \u2713"),
        (45, "2026-03-01T12:00:01Z", "host", "heroku", "web.1", "State changed from starting to up"),
    ]
    for pri, ts, host, app, proc, msg in good[:2]:
        c.add(f"<{pri}>1 {ts} {host} {app} {proc} - {msg}\n".encode())
        records.append(record(priority=pri, version="1", timestamp=normalise(ts), host_name=host,
                              app_name=app, process_id=proc, message=msg))
    # A bad timestamp: the error is at the TIMESTAMP field.
    line = b"<190>1 2026-02-30T00:00:00Z host app web.1 - not a day\n"
    errors.append((*c.pos(b"<190>1 "), "timestamp"))
    c.add(line)
    c.add(b"\r\n")  # blank lines are tolerated
    # A line that is not RFC 5424 at all: PRI at column 1.
    errors.append((*c.pos(), "priority"))
    c.add(b"Mar  1 12:00:01 host app: BSD syslog is not Heroku's format\n")
    pri, ts, host, app, proc, msg = good[2]
    c.add(f"<{pri}>1 {ts} {host} {app} {proc} - {msg}\r\n".encode())
    records.append(record(priority=pri, version="1", timestamp=normalise(ts), host_name=host,
                          app_name=app, process_id=proc, message=msg))
    write("app.syslog", bytes(c.data), records, errors)


def cli():
    dim, cyan, reset = "\x1b[2m", "\x1b[36m", "\x1b[0m"
    c = Capture()
    records, errors = [], []
    errors.append((1, 1, "garbage"))
    c.add(b"=== shop logs (Ctrl-C to stop)\n")
    msgs = [
        ("2026-03-01T12:00:00.123456+00:00", "heroku", "router",
         ['at=info method=GET path="/" status=200'], True),
        ("2026-03-01T12:00:01.5+00:00", "app", "web.1",
         ["Error: boom", "    at handler (/app/index.js:10:5)", "    at next (/app/router.js:2:1)"], True),
        ("2026-03-01T13:00:02-01:00", "app", "api",
         ["Release v42 created by user ops@example.com"], False),
        ("2026-03-01T12:00:03+00:00", "heroku", None,
         ["Scaled to web@2:Standard-1X"], False),
        ("2026-03-01T12:00:04.000+00:00", "app", "worker.1",
         ["caf\u00e9 \u65e5\u672c \U0001F680", "second line"], True),
    ]
    for ts, src, proc, lines, colour in msgs:
        prefix = f"{src}[{proc}]:" if proc else f"{src}:"
        if colour:
            first = f"{dim}{ts}{reset} {cyan}{prefix}{reset} {lines[0]}\n"
        else:
            first = f"{ts} {prefix} {lines[0]}\n"
        c.add(first.encode())
        for cont in lines[1:]:
            c.add((cont + "\n").encode())
        records.append(record(timestamp=normalise(ts), app_name=src, process_id=proc,
                              message="\n".join(lines)))
    # A prefix line with an impossible timestamp: its message (and continuation) is rejected.
    errors.append((*c.pos(), "timestamp"))
    c.add(b"2026-13-01T00:00:00+00:00 app[web.1]: month 13\n  and its continuation\n")
    c.add(b"2026-03-01T12:00:05+00:00 app[web.2]: last\n")
    records.append(record(timestamp=normalise("2026-03-01T12:00:05+00:00"), app_name="app",
                          process_id="web.2", message="last"))
    write("heroku-logs.txt", bytes(c.data), records, errors)


def frame(msg: bytes) -> bytes:
    return str(len(msg)).encode() + b" " + msg


def http():
    c = Capture()
    records, errors, token_errors = [], [], []
    n = [0]

    def msg(app="app", proc="web.1", text=None):
        n[0] += 1
        text = text or f"request {n[0]} done in {n[0] * 7}ms"
        ts = f"2026-03-01T12:00:{n[0]:02d}.{n[0]:06d}+00:00"
        body = f"<190>1 {ts} host {app} {proc} - {text}\n".encode()
        rec = record(message_len=len(body), priority=190, version="1", timestamp=normalise(ts),
                     host_name="host", app_name=app, process_id=proc, message=text)
        return frame(body), rec

    def request(frames, headers, body=None, chunks=None, keep=True, token_keep=None):
        """Writes a request; returns the (line, col) of each header value by name."""
        raw = b"".join(f for f, _ in frames)
        if body is None:
            body = raw
        head = [b"POST /logs HTTP/1.1", b"Host: drain.example.com",
                b"Content-Type: application/logplex-1", b"User-Agent: Logplex/v123"]
        head += [f"{k}: {v}".encode() for k, v in headers]
        if chunks is None:
            head.append(f"Content-Length: {len(body)}".encode())
        else:
            head.append(b"Transfer-Encoding: chunked")
        where = {}
        start = bytes(c.data)
        text = b""
        for h in head:
            if b": " in h:
                name = h.split(b": ")[0].decode().lower()
                where[name] = position_after(start + text + h.split(b": ")[0] + b": ")
            text += h + b"\r\n"
        c.add(text + b"\r\n")
        if chunks is None:
            c.add(body)
        else:
            off = 0
            for size in chunks:
                piece = body[off:off + size]
                off += size
                c.add(f"{size:x}\r\n".encode() + piece + b"\r\n")
            assert off == len(body)
            c.add(b"0\r\n\r\n")
        if keep:
            records.extend(r for _, r in frames)
        return where

    tok = ("Logplex-Drain-Token", "d.TOKEN-GOOD")
    # 1. Two frames, Content-Length.
    f1 = [msg(), msg(app="heroku", proc="router")]
    request(f1, [("Logplex-Msg-Count", 2), ("Logplex-Frame-Id", "frame-0001"), tok])
    # 2. The same request again: a retry, skipped.
    request(f1, [("Logplex-Msg-Count", 2), ("Logplex-Frame-Id", "frame-0001"), tok], keep=False)
    # 3. Chunked, with a frame split across chunks.
    f3 = [msg(), msg(), msg(proc="worker.1")]
    raw = b"".join(f for f, _ in f3)
    request(f3, [("Logplex-Msg-Count", 3), ("Logplex-Frame-Id", "frame-0002"), tok],
            chunks=[10, len(raw) - 30, 20])
    # 4. A gzip body.
    f4 = [msg(text="compressed \u2713"), msg()]
    raw = b"".join(f for f, _ in f4)
    request(f4, [("Logplex-Msg-Count", 2), ("Logplex-Frame-Id", "frame-0003"), tok,
                 ("Content-Encoding", "gzip")],
            body=gzip.compress(raw, mtime=0))
    # 5. Msg-Count says 3, the body holds 2: records kept, error msg-count at the value.
    f5 = [msg(), msg()]
    w = request(f5, [("Logplex-Msg-Count", 3), ("Logplex-Frame-Id", "frame-0004"), tok])
    errors.append((*w["logplex-msg-count"], "msg-count"))
    token_errors.append((*w["logplex-msg-count"], "msg-count"))
    # 6. Another drain's token: fine without --drain-token, `auth` with it.
    f6 = [msg(app="intruder")]
    w = request(f6, [("Logplex-Msg-Count", 1), ("Logplex-Frame-Id", "frame-0005"),
                     ("Logplex-Drain-Token", "d.SOMEONE-ELSE")])
    token_errors.append((*w["logplex-drain-token"], "auth"))
    # 7. A Private Space drain: no Frame-Id, no token.
    f7 = [msg(proc="web.2")]
    start = c.pos()
    request(f7, [("Logplex-Msg-Count", 1)])
    token_errors.append((*start, "auth"))
    write("drain-posts.http", bytes(c.data), records, errors,
          {".token.tsv": token_errors})
    # The records with --drain-token: requests 6 and 7 are rejected.
    with open(os.path.join(HERE, "drain-posts.token.ndjson"), "w", encoding="utf-8") as f:
        for r in records:
            if r["app_name"] != "intruder" and r["process_id"] != "web.2":
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    syslog()
    cli()
    http()
