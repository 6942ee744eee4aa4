#!/usr/bin/env python3
"""Writes testdata/sample.drain and its expected results, independently of drainpipe.

The capture is built from structured records: this script computes each LEN, the expected
Heroku.Runtime values (timestamps normalised with Python's datetime, not drainpipe's code) and
the file:line:column of every bad frame it plants. Tests compare drainpipe's output with these
files, so the expectations come from a second implementation, not from drainpipe itself.

    python3 testdata/make_sample.py    # rewrites sample.drain, sample.expected.ndjson, sample.errors.tsv
"""
import datetime as dt
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))

# (pri, timestamp, host, app, procid, msgid, message, terminator)
GOOD = [
    (158, "2026-03-01T12:00:00.000123+00:00", "host", "heroku", "router", "-",
     'at=info method=GET path="/" host=shop.herokuapp.com request_id=5c1f4b1e-0d1b-4c5e-9a2f-1f3e6d7c8b9a '
     'fwd="203.0.113.7" dyno=web.1 connect=0ms service=12ms status=200 bytes=1534 protocol=https', "\n"),
    (158, "2026-03-01T12:00:00.104+00:00", "host", "heroku", "router", "-",
     'at=error code=H12 desc="Request timeout" method=POST path="/checkout" host=shop.herokuapp.com '
     'request_id=9e2d7a30-5b8c-4f61-a0c3-2b4e6f8a1c5d fwd="198.51.100.23" dyno=web.2 connect=1ms '
     'service=30000ms status=503 bytes=0 protocol=https', "\n"),
    (190, "2026-03-01T12:00:00.250000+00:00", "host", "app", "web.1", "-",
     'I, [2026-03-01T12:00:00.249817 #4]  INFO -- : [5c1f4b1e] Completed 200 OK in 11ms (Views: 6.1ms | ActiveRecord: 2.0ms)', "\n"),
    (190, "2026-03-01T12:00:00.311+00:00", "host", "app", "worker.1", "-",
     'Benutzer \u201eJ\u00fcrgen\u201c angemeldet \u2713 \u65e5\u672c\u8a9e\u306e\u30ed\u30b0 \U0001F680 caf\u00e9', "\n"),
    (45, "2026-03-01T12:00:01Z", "host", "heroku", "web.1", "-",
     "State changed from starting to up", "\n"),
    (190, "2026-03-01T12:00:02.000001+00:00", "host", "heroku", "web.1", "-",
     "source=web.1 dyno=heroku.12345678.0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d sample#memory_total=412.33MB "
     "sample#memory_rss=398.10MB sample#memory_cache=14.23MB sample#memory_swap=0.00MB sample#memory_quota=512.00MB", "\n"),
    (187, "2026-03-01T12:00:02.5+00:00", "host", "app", "web.2", "-",
     'Traceback (most recent call last):\n  File "/app/shop/views.py", line 88, in checkout\n'
     '    total = cart.total(currency="EUR")\nValueError: unknown currency "EUR", expected one of: USD, GBP', "\n"),
    # A non-UTC offset: normalised to UTC, the fraction digits kept.
    (190, "2026-03-01T07:00:03.5-05:00", "d.7f3e2a10-1c4b-4d8e-9f60-5a2b3c4d5e6f", "app", "web.3", "-",
     'level=info msg="payment captured" amount="12,50 EUR" note="say \\"hi\\"" path=C:\\tmp\ttab', "\n"),
    (134, "2026-03-01T12:00:04.000+00:00", "10.1.2.3", "app", "heroku-postgres", "-",
     "source=DATABASE addon=postgresql-round-12345 sample#current_transaction=1873 sample#db_size=9871232bytes "
     "sample#tables=12 sample#active-connections=4 sample#waiting-connections=0", "\n"),
    (45, "2026-03-01T12:00:05.000000+00:00", "host", "app", "api", "ID47",
     "Release v42 created by user deploy@example.com", "\n"),
    # CRLF-terminated (LEN counts both bytes; both are removed from the message).
    (190, "2026-03-01T12:00:06.000+00:00", "host", "app", "scheduler.1", "-",
     "Running rake cleanup:sessions", "\r\n"),
    # Nil fields become null; a message of "-" is null too.
    (13, "-", "-", "-", "-", "-", "-", "\n"),
]

INVALID_UTF8 = (190, "2026-03-01T12:00:07.000+00:00", "host", "app", "web.1", "-",
                b"bytes from a broken encoder: \xc3( end", "\n")

# Bad frames: (raw bytes, code, column within the line of the bad frame's start)
def frame(msg: bytes) -> bytes:
    return str(len(msg)).encode() + b" " + msg


def header(pri, ts, host, app, proc, msgid):
    return f"<{pri}>1 {ts} {host} {app} {proc} {msgid}".encode()


def normalise(ts: str):
    if ts == "-":
        return None
    # Converting the offset never changes the fraction, so it is carried over as written.
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", ts)
    d = dt.datetime.fromisoformat(m.group(1) + m.group(3).replace("Z", "+00:00"))
    out = d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if m.group(2):
        out += "." + m.group(2)
    return out + "Z"


def nil(v):
    return None if v == "-" else v


def main():
    out = bytearray()
    expected = []
    errors = []

    def line_col(offset):
        line = out.count(b"\n", 0, offset) + 1
        col = offset - (out.rfind(b"\n", 0, offset) + 1) + 1
        return line, col

    def good(rec, raw_message=None):
        pri, ts, host, app, proc, msgid, message, term = rec
        body_msg = raw_message if raw_message is not None else message.encode()
        msg = header(pri, ts, host, app, proc, msgid) + b" " + body_msg + term.encode()
        out.extend(frame(msg))
        expected.append({
            "message_len": len(msg), "priority": pri, "version": "1", "timestamp": normalise(ts),
            "host_name": nil(host), "app_name": nil(app), "process_id": nil(proc),
            "message_id": nil(msgid),
            "message": nil(body_msg.decode("utf-8", errors="replace")),
        })

    def bad(raw: bytes, code: str, field_offset: int):
        line, col = line_col(len(out) + field_offset)
        errors.append((line, col, code))
        out.extend(raw)

    good(GOOD[0])
    good(GOOD[1])
    # PRI over 191: reported at the '<' (after "NNN ").
    m = header(192, "2026-03-01T12:00:00.200+00:00", "host", "app", "web.1", "-") + b" too important\n"
    bad(frame(m), "priority", len(str(len(m))) + 1)
    good(GOOD[2])
    good(GOOD[3])
    # Stray text between frames (someone pasted a note into the capture).
    bad(b"--- capture resumed after proxy restart ---\n", "garbage", 0)
    good(GOOD[4])
    good(GOOD[5])
    good(GOOD[6])  # multi-line stack trace: later errors must still get the right line
    # February 30th.
    m = header(190, "2026-02-30T12:00:02.700+00:00", "host", "app", "web.1", "-") + b" never happened\n"
    bad(frame(m), "timestamp", len(str(len(m))) + 1 + len("<190>1 "))
    good(GOOD[7])
    # LEN too short by 3: the frame overruns into its own text.
    m = header(190, "2026-03-01T12:00:03.700+00:00", "host", "app", "web.1", "-") + b" length is off\n"
    bad(str(len(m) - 3).encode() + b" " + m, "frame-overrun", 0)
    good(GOOD[8])
    # APP-NAME over 48 bytes.
    m = header(190, "2026-03-01T12:00:04.500+00:00", "host", "a" * 49, "web.1", "-") + b" long app\n"
    bad(frame(m), "app-name", len(str(len(m))) + 1 + len("<190>1 2026-03-01T12:00:04.500+00:00 host "))
    good(GOOD[9])
    good(GOOD[10])
    # Ends before MSGID.
    m = b"<190>1 2026-03-01T12:00:05.500+00:00 host app\n"
    bad(frame(m), "missing-field", len(str(len(m))) + 1 + len(m) - 1)
    good(GOOD[11])
    good(INVALID_UTF8, raw_message=INVALID_UTF8[6])

    with open(os.path.join(HERE, "sample.drain"), "wb") as f:
        f.write(out)
    with open(os.path.join(HERE, "sample.expected.ndjson"), "w", encoding="utf-8") as f:
        for e in expected:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    with open(os.path.join(HERE, "sample.errors.tsv"), "w") as f:
        f.write("line\tcolumn\tcode\n")
        for line, col, code in errors:
            f.write(f"{line}\t{col}\t{code}\n")


if __name__ == "__main__":
    main()
