#!/usr/bin/env python3
"""Writes the captures for `convert --expand` and `convert --rejoin`, with their expected
results, independently of drainpipe (docs/beyond-the-schema.md; README "Records").

The expectations come from this script alone: from the rule book, from PostgreSQL's own
`write_syslog` splitting (re-implemented below from src/backend/utils/error/elog.c) and from
this script's bookkeeping of the bytes it writes. drainpipe's code is not consulted.

    python3 testdata/make_beyond.py

writes, under testdata/beyond/:
  expand.drain            octet capture, one record per `--expand` case below
  expand.expected.ndjson  what `drainpipe convert --expand expand.drain` must write
  rejoin.drain            octet capture with PostgreSQL chunks, Heroku 10,000-byte pieces and
                          the records of other sources interleaved
  rejoin.expected.ndjson  what `drainpipe convert --rejoin rejoin.drain` must write, in order
  rejoin.warnings.tsv     LINE, COLUMN, CODE of each `rejoin` and `utf8` warning of that run,
                          in input order (sorted by position; no header row). `rejoin` points
                          at the first byte (LEN) of the chain's first piece's frame, `utf8` at
                          the first invalid byte of the frame's message
  both.expected.ndjson    what `drainpipe convert --expand --rejoin rejoin.drain` must write

Self-checks (the script stops on the first failure): every frame is re-read by a small framer
written separately from the writer (LEN, delimitation, header) and the frame count equals the
records planted; the `--expand` objects computed by the logfmt reader below equal the literal
expectations written by hand next to each case; every PostgreSQL text is split with the
re-implemented `write_syslog`, and the rule book's join heuristic applied to its chunks must give
back the original text (empty lines removed); the `--rejoin` output is computed twice — from the
cases' plan (which chain is complete, what its text is) and by a rule-book simulator run on the
re-read frames — and the two must agree; every JSON line parses back. Fixed seed: re-running
gives byte-identical files.

Cases of expand.drain (rule of the `--expand` section each one tests)
  R1  router info line, all known keys, tls_version                 router members, key order
  R2  the rule book's H12 example, quoted desc, path with a space    quoted values
  R3  H10 line: dyno= connect= service= bytes= empty                 empty value -> null
  R4  path with spaces, \\" and \\\\ escapes and a lone backslash;    escapes; any other key is a
      tls, sock and an unknown key (x_custom)                          string
  R5  connect=5 (no ms), service=abcms, status=abc, bytes=-1;        integer rules -> null
      connect=ms, service=5MS, status=20x, bytes=1.5
  R6  18 digits (kept) and 19 digits (null); leading zeros            1-18 ASCII digits
  R7  duplicate keys (at, status first invalid, path, connect)       first occurrence wins
  R7b connect_ms=fast service_ms=7 service=3ms connect=1ms            typed by member name; one
                                                                       member a name, first wins
  R8  router lines that are not logfmt (unterminated quote, a tab,   no object at all
      bare words only)
  R9  bare keys (canary, count#y) and sample#x=1 in a router line     bare keys ignored; no
                                                                       metrics in router
  R10 leading, trailing and repeated spaces                           token separation
  R11 desc with `=` and a multibyte character; unknown empty key      strings; empty -> null
  M1  Heroku runtime memory metrics (heroku/web.1)                   metrics + fields, units,
                                                                       21.00MB -> 21.0
  M2  Heroku runtime load averages                                   unit null
  M3  Heroku Postgres metrics (26219348792bytes, kB, rates)          big values as doubles
  M4  Heroku Redis metrics                                           idem
  M5  l2met: measure#db.latency=20ms, bare count#jobs, count#x=3     bare count# counts 1
  M6  metric keys with non-numeric values (abc, 1.5.2, 1e5, ., 1.,   -> fields as strings
      .5, 3µs, empty, quoted with a space)
  M7  negative numbers; a lone `-`                                   -?[0-9]+(\\.[0-9]+)?
  M8  quoted metric values                                           quoted numbers count
  M9  sample#=5, bare measure#, bare count#                          nothing after # -> field
  M10 Sample#x, COUNT#y, sample=3, samples#z=4                       prefixes are exact
  M11 count#jobs then count#jobs=5; sample#m twice                   first occurrence wins
  M12 units 1e, 10kB, 0, 007, 1.50s                                   [A-Za-z]* unit
  M13 heroku/scheduler prose with one user=...                       one `=` makes logfmt
  M14 app/router (not heroku/router)                                 only heroku+router is router
  M15 all header fields nil (`-`)                                    not router; fields/metrics
  M16 bare sample#x, measure#y, count#z (+ src=w)                   only count# counts
  M16b only bare count#jobs count#retries                           no `=`: not logfmt, nothing
  F1  plain app logfmt: url=/a?b=c&d=e, empty=, bare flag            `=` inside values, "" , true
  F2  duplicate keys (a=1 a=2, b then b=3)                           first occurrence wins
  F3  multibyte UTF-8 in keys and values (Cyrillic, CJK, emoji)      keys are bytes
  F4  k=a=b, eq==                                                    unquoted values hold `=`
  F5  \\" \\\\ and a lone backslash in quoted field values             escapes
  F6  leading/trailing spaces, bare key last                         token separation
  F7  invalid UTF-8 (a=\\xff): read after U+FFFD replacement           grammar on decoded text
  F8  keys with #, [ and ] that are not metric keys                  key bytes
  F9  a="" (quoted empty)                                            "" value
  F10 a CRLF-terminated logfmt line                                  message without \\r\\n
  N1  stray quote inside a key / an unquoted value                   not logfmt
  N2  unterminated quote; N13 a quote "closed" by \\" (still open)    not logfmt
  N3  token starting with `=`; N14 a lone `=`; N16 a token "..."=1   not logfmt
  N4  a tab; N11 DEL in a quoted value and in a key; N12 a newline   control bytes
  N5  empty message ""; N6 only spaces; N7 `-` (null message)        not logfmt / null
  N8  Started GET "/" for 1.2.3.4; N9 prose without `=`              not logfmt
  N10 closing quote followed by a non-space; N17 a= "b"              not logfmt

Cases of rejoin.drain (PG = PostgreSQL chunks, the text split by write_syslog below)
  P1  PG long single-line SELECT (~3.5 KB), [DATABASE] tag, interleaved with router/app lines,
      other PG processes and an impostor: cuts at word boundaries   chain, heuristic: whitespace+
                                                                      word would not have fitted
  P2  PG long single-line UPDATE, no tag                           idem without TAG
  P3  PG ERROR + multi-line STATEMENT (tab-indented lines as append_with_tabs writes them, a
      tab-only line), tag                                          newline between pieces
  P4  PG multi-line INSERT with a 2 KB line and an empty line, no tag; ends with an unsplit
      "[SEQ] text" message from the same process                   newlines in a row; chain ended
                                                                      by another message
  P5  PG long hex literal (mid-word cuts at exactly 900), tag; a message starting with a 1.9 KB
      token, no tag                                                TEXT of 897-900 bytes +
                                                                      non-whitespace -> direct join
  P6  PG CJK literal: pg_mbcliplen cut to 898 bytes, then a 900-byte mid-word cut, tag;
      emoji at byte 897 (cut to 897) without and with tag; CJK words with spaces where the
      cut is first clipped, then backed off to a space, no tag     multibyte trimming
  P20 PG COPY CONTEXT line with tab-separated fields, tag: cuts back off to a tab
                                                                   tab is whitespace in the rule
  P21 PG lines of 896 bytes followed by a non-whitespace line (newline: 896 < 897) and by
      "\\tAND" (newline: 896 + 4 = 900, not > 900); a back-off where 890 + len(" abcdefghij") =
      901 (direct), no tag                                         the heuristic's boundaries
  P7  one-chunk messages (a short line ending in \\n) with and without tag, incl. one ended by
      another chunk-message and one by the 100-record window        complete chain of one piece:
                                                                      "[TAG] [SEQ] TEXT", len null
  P8  impostor: same app/process, other host, [SEQ-2] of P1's SEQ   source = host+app+process:
                                                                      orphan, warning; P1 goes on
  P9  missing middle chunk: pieces 1, 2, 4 (frame 1 starts mid-line after a frame without
      trailing newline)                                            incomplete (warning at piece 1)
                                                                      + orphan N=4 (warning)
  P10 orphan [SEQ-2] after a blank \\r\\n line                       N>1 continuing no chain
  P11 [DATABASE] [600-1] then [HEROKU_POSTGRESQL_RED] [600-2]; [601-1] then [DATABASE] [601-2]
                                                                   TAG must match: complete +
                                                                      orphan
  P12 [700-1] sent twice, then [700-2]                              same SEQ other N: incomplete;
                                                                      the repeat starts a chain
  P13 not chunks: two spaces after the tag, N=01, no space, tag with `-`, 21-digit SEQ,
      10-digit N, leading space, "[5 -1]", "[-1]", "[5-]", "[5-1]" at the end
                                                                   chunk grammar (plain records)
  P14 chunks at the edges: 20-digit SEQ, 9-digit N (orphan), empty TEXT, TEXT with leading
      spaces, TAG with digits and `_`, "[10-1] [11-1] nested"      chunk grammar
  P15 PG logfmt-shaped statement="..." spread over chunks (only the joined text is logfmt)
                                                                   --expand on the joined message
  P16 a 10,000-byte message that is a PG chunk [900-1], then [901-1] from the same process
                                                                   read as PG, not as a 10k piece
  P17 PG chain, 99 other records, its last chunk (one cut of this chain falls where byte 900
      is a space already: PostgreSQL keeps 900 bytes)              window: within 100 -> joined
  P18 PG chain, exactly 100 other records, its last chunk           window passed: chain 1-2
                                                                      complete (joined); late N=3
                                                                      is an orphan (warning)
  P19 PG chain of which only chunks 1-2 arrive before the end of input
                                                                   PG chain ends complete at EOF
  H1  Heroku 25,000-byte logfmt line: 10,000 + 10,000 + 5,000, interleaved with router, app and
      PG records; timestamps of later pieces differ                joined byte for byte; header
                                                                      of the first piece
  H2  15,000 bytes cut in the middle of a 3-byte character (each piece invalid UTF-8, joined
      valid)                                                       join before decoding; each
                                                                      piece's utf8 warning stays
  H3  a line of exactly 20,000 bytes (10,000 + 10,000), then, 2 records later, a short unrelated
      line from the same source                                    ASSUMED: Heroku sends no
      empty third piece, so by the rule book the chain waits for a shorter piece and the next
      line from that source is glued on as the last piece (a limitation of the rule)
  H7  a plain 9,999-byte line, then a short line from the same source
                                                                   not a piece: both plain
  H8  19,999 bytes: 10,000 + 9,999, then a short line from the same source
                                                                   the 9,999-byte piece is the
                                                                      shorter one that ends it
  H4  10,000 + 3,000 with 99 other records between                  window: within 100 -> joined
  H5  21,000 bytes: 10,000 + 10,000, exactly 100 other records, then the 1,000-byte tail (the
      first piece's frame starts mid-line)                         incomplete (warning); the tail
                                                                      is a plain record
  H6  a 20,000-byte line whose two pieces are the last records of its source before the end
      of input                                                     10k chain at EOF: incomplete
  U1  an app line with invalid UTF-8 whose frame starts mid-line    utf8 warning position
  Frames without a trailing newline, blank \\n and \\r\\n lines between frames: line/column
  bookkeeping of the warnings.

PostgreSQL texts the join heuristic gets wrong (so none is used in the capture; each is checked
by assert_heuristic_limits() below):
  A1  a line of exactly 900 bytes followed by a newline and a line that does not start with
      whitespace: PostgreSQL drops the newline at the limit, the heuristic joins directly (the
      rule book says so itself);
  A2  a last chunk of 897-899 bytes of a line (after earlier cuts) followed by a new line that
      does not start with whitespace: joined directly, the newline is lost;
  A3  a long line whose last chunk is, say, 880 bytes followed by a tab-indented line whose first
      word makes len + 1 + len(word) > 900: joined directly, the newline is lost.
Read right since the third outside trial (checked below too): A4, a 1-3 byte first word, a
space, then more than 900 bytes of multi-byte characters without whitespace (the word fills a
chunk clipped to 897-899 bytes and goes on); A5, a line followed by a line indented by several
spaces (only a back-off leaves exactly one whitespace byte).
"""
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sample import normalise  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "beyond")
KEYS = ["message_len", "priority", "version", "timestamp", "host_name", "app_name",
        "process_id", "message_id", "message"]
SEED = 20260301
WINDOW = 100            # records a chain waits for its next piece
HEROKU_PIECE = 10000    # Heroku's piece size


# --------------------------------------------------------------------------------------------
# Writing captures, with bookkeeping of every frame's offsets


class Capture:
    """An octet capture being written; every planted record is remembered."""

    def __init__(self):
        self.data = bytearray()
        self.recs = []

    def ts(self, n):
        """A timestamp for record n, in one of four spellings (normalised by make_sample)."""
        us = 123457 * n % 1000000
        sec = 10 * 3600 + n * 7 // 3
        h, m, s = sec // 3600, sec // 60 % 60, sec % 60
        kind = n % 4
        if kind == 0:
            return f"2026-03-01T{h:02d}:{m:02d}:{s:02d}.{us:06d}+00:00"
        if kind == 1:
            return f"2026-03-01T{h:02d}:{m:02d}:{s:02d}.{us // 1000:03d}Z"
        if kind == 2:
            return f"2026-03-01T{h - 5:02d}:{m:02d}:{s:02d}.{us:06d}-05:00"
        return f"2026-03-01T{h:02d}:{m:02d}:{s:02d}Z"

    def put(self, src, raw: bytes, pri=190, term=b"\n", msgid="-", before=b"", ts=None):
        """Plants one frame; `before` goes between the previous frame and this one."""
        assert isinstance(raw, bytes)
        self.data += before
        host, app, proc = src
        ts = ts or self.ts(len(self.recs))
        head = f"<{pri}>1 {ts} {host or '-'} {app or '-'} {proc or '-'} {msgid} ".encode()
        msg = head + raw + term
        frame_off = len(self.data)
        lenb = str(len(msg)).encode()
        self.recs.append({
            "idx": len(self.recs), "frame_off": frame_off,
            "msg_off": frame_off + len(lenb) + 1 + len(head),
            "pri": pri, "ts": ts, "src": (host, app, proc), "msgid": msgid, "raw": raw,
            "message_len": len(msg),
        })
        self.data += lenb + b" " + msg
        return len(self.recs) - 1


def nil(v):
    return None if v in (None, "-") else v


def as_is(rec):
    """The record drainpipe writes for a planted frame without --rejoin (README "Records")."""
    host, app, proc = rec["src"]
    raw = rec["raw"]
    return {
        "message_len": rec["message_len"], "priority": rec["pri"], "version": "1",
        "timestamp": normalise(rec["ts"]), "host_name": nil(host), "app_name": nil(app),
        "process_id": nil(proc), "message_id": nil(rec["msgid"]),
        "message": None if raw == b"-" else raw.decode("utf-8", errors="replace"),
    }


def line_col(data, off):
    """1-based line and byte column of offset `off`."""
    return data.count(b"\n", 0, off) + 1, off - (data.rfind(b"\n", 0, off) + 1) + 1


# --------------------------------------------------------------------------------------------
# An independent re-reader of the captures (framing and header only)

FRAME_START = re.compile(rb"[1-9][0-9]* <")
HEADER = re.compile(rb"<([0-9]{1,3})>([1-9][0-9]{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) ")


def reread(data: bytes):
    out = []
    i = 0
    while i < len(data):
        if data.startswith(b"\n", i):
            i += 1
            continue
        if data.startswith(b"\r\n", i):
            i += 2
            continue
        sp = data.index(b" ", i)
        lenb = data[i:sp]
        assert re.fullmatch(rb"[1-9][0-9]*", lenb), (i, lenb[:20])
        n = int(lenb)
        msg = data[sp + 1:sp + 1 + n]
        assert len(msg) == n, "truncated frame"
        end = sp + 1 + n
        if not msg.endswith(b"\n"):
            assert (end == len(data) or data.startswith(b"\n", end) or data.startswith(b"\r\n", end)
                    or FRAME_START.match(data, end)), "frame-overrun"
        h = HEADER.match(msg)
        assert h, msg[:80]
        body = msg[h.end():]
        if body.endswith(b"\r\n"):
            body = body[:-2]
        elif body.endswith(b"\n"):
            body = body[:-1]
        dec = lambda b: None if b == b"-" else b.decode("ascii")  # noqa: E731
        out.append({
            "idx": len(out), "frame_off": i, "msg_off": sp + 1 + h.end(), "raw": body,
            "record": {
                "message_len": n, "priority": int(h[1]), "version": h[2].decode(),
                "timestamp": normalise(h[3].decode()), "host_name": dec(h[4]),
                "app_name": dec(h[5]), "process_id": dec(h[6]), "message_id": dec(h[7]),
                "message": None if body == b"-" else body.decode("utf-8", errors="replace"),
            },
        })
        i = end
    return out


def utf8_warnings(frames):
    """(offset, 'utf8') at the first invalid byte of each frame's message."""
    out = []
    for f in frames:
        try:
            f["raw"].decode("utf-8")
        except UnicodeDecodeError as e:
            out.append((f["msg_off"] + e.start, "utf8"))
    return out


# --------------------------------------------------------------------------------------------
# --expand: the logfmt grammar and the three objects, from the rule book

def is_ctl(c):
    return ord(c) < 0x20 or ord(c) == 0x7F


def logfmt(msg):
    """[(key, has_eq, value)] when `msg` is logfmt, else None."""
    if msg is None:
        return None
    toks, i, n = [], 0, len(msg)
    while True:
        while i < n and msg[i] == " ":
            i += 1
        if i == n:
            break
        k = i
        while i < n and msg[i] not in ' ="' and not is_ctl(msg[i]):
            i += 1
        if i == k:
            return None                       # token starts with =, " or a control byte
        key = msg[k:i]
        if i == n or msg[i] == " ":
            toks.append((key, False, None))
            continue
        if msg[i] != "=":
            return None                       # a quote or a control byte inside the key
        i += 1
        if i == n or msg[i] == " ":
            toks.append((key, True, ""))
            continue
        if msg[i] == '"':
            i += 1
            val = []
            while True:
                if i == n:
                    return None               # unterminated
                c = msg[i]
                if c == "\\" and i + 1 < n and msg[i + 1] in '"\\':
                    val.append(msg[i + 1])
                    i += 2
                elif c == '"':
                    i += 1
                    break
                elif is_ctl(c):
                    return None
                else:
                    val.append(c)
                    i += 1
            if i < n and msg[i] != " ":
                return None                   # closing quote not followed by a space
            toks.append((key, True, "".join(val)))
            continue
        v = i
        while i < n and msg[i] != " " and msg[i] != '"' and not is_ctl(msg[i]):
            i += 1
        if i < n and msg[i] != " ":
            return None                       # a quote or a control byte in the value
        toks.append((key, True, msg[v:i]))
    if not any(eq for _, eq, _ in toks):
        return None
    return toks


METRIC_KEY = re.compile(r"(?:sample|measure|count)#.+", re.S)
NUMBER = re.compile(r"(-?[0-9]+(?:\.[0-9]+)?)([A-Za-z]*)")
ROUTER_MS = re.compile(r"([0-9]{1,18})ms")
ROUTER_INT = re.compile(r"[0-9]{1,18}")


def expand(rec):
    """The objects --expand adds to `rec` (a record dict), as an ordered dict."""
    toks = logfmt(rec["message"])
    if toks is None:
        return {}
    seen = set()
    if rec["app_name"] == "heroku" and rec["process_id"] == "router":
        router = {}
        for key, eq, val in toks:
            if not eq or key in seen:
                continue
            seen.add(key)
            if key in ("connect", "service"):
                m = ROUTER_MS.fullmatch(val)
                name, value = key + "_ms", (int(m[1]) if m else None)
            elif key in ("status", "bytes", "connect_ms", "service_ms"):
                name, value = key, (int(val) if ROUTER_INT.fullmatch(val) else None)
            else:
                name, value = key, (val if val != "" else None)   # empty: null
            if name not in router:                                # one member a name: first
                router[name] = value
        return {"router": router}
    metrics, fields = {}, {}
    for key, eq, val in toks:
        if key in seen:
            continue
        seen.add(key)
        metric = METRIC_KEY.fullmatch(key)
        num = NUMBER.fullmatch(val) if eq else None
        if metric and num:
            metrics[key] = {"value": float(num[1]), "unit": num[2] or None}
        elif metric and not eq and key.startswith("count#"):
            metrics[key] = {"value": 1.0, "unit": None}
        else:
            fields[key] = val if eq else True
    out = {}
    if metrics:
        out["metrics"] = metrics
    if fields:
        out["fields"] = fields
    return out


def m(v, unit=None):
    return {"value": v, "unit": unit}


ROUTER = ("host", "heroku", "router")
WEB1 = ("host", "app", "web.1")

# (source, message bytes, terminator, hand-written expectation)
EXPAND_CASES = [
    # R1
    (ROUTER, b'at=info method=GET path="/" host=shop.herokuapp.com '
             b'request_id=5c1f4b1e-0d1b-4c5e-9a2f-1f3e6d7c8b9a fwd="203.0.113.7" dyno=web.1 '
             b'connect=0ms service=12ms status=200 bytes=1534 protocol=https tls_version=tls1.3',
     b"\n", {"router": {"at": "info", "method": "GET", "path": "/", "host": "shop.herokuapp.com",
                        "request_id": "5c1f4b1e-0d1b-4c5e-9a2f-1f3e6d7c8b9a", "fwd": "203.0.113.7",
                        "dyno": "web.1", "connect_ms": 0, "service_ms": 12, "status": 200,
                        "bytes": 1534, "protocol": "https", "tls_version": "tls1.3"}}),
    # R2
    (ROUTER, b'at=error code=H12 desc="Request timeout" method=GET path="/a b?x=1" '
             b'host=shop.herokuapp.com dyno=web.1 connect=1ms service=30000ms status=503 bytes=0',
     b"\n", {"router": {"at": "error", "code": "H12", "desc": "Request timeout", "method": "GET",
                        "path": "/a b?x=1", "host": "shop.herokuapp.com", "dyno": "web.1",
                        "connect_ms": 1, "service_ms": 30000, "status": 503, "bytes": 0}}),
    # R3
    (ROUTER, b'at=error code=H10 desc="App crashed" method=GET path="/favicon.ico" '
             b'host=shop.herokuapp.com request_id=0a1b2c3d fwd="198.51.100.9" dyno= connect= '
             b'service= status=503 bytes= protocol=https',
     b"\n", {"router": {"at": "error", "code": "H10", "desc": "App crashed", "method": "GET",
                        "path": "/favicon.ico", "host": "shop.herokuapp.com",
                        "request_id": "0a1b2c3d", "fwd": "198.51.100.9", "dyno": None,
                        "connect_ms": None, "service_ms": None, "status": 503, "bytes": None,
                        "protocol": "https"}}),
    # R4
    (ROUTER, rb'at=info method=POST path="/a b/\"quoted\"/back\\slash/lone\x" '
             rb'host=shop.herokuapp.com dyno=web.2 connect=1ms service=5ms status=201 bytes=0 '
             rb'protocol=https tls=true tls_version=TLSv1.3 sock=client x_custom=hello',
     b"\n", {"router": {"at": "info", "method": "POST",
                        "path": '/a b/"quoted"/back\\slash/lone\\x', "host": "shop.herokuapp.com",
                        "dyno": "web.2", "connect_ms": 1, "service_ms": 5, "status": 201,
                        "bytes": 0, "protocol": "https", "tls": "true", "tls_version": "TLSv1.3",
                        "sock": "client", "x_custom": "hello"}}),
    # R5
    (ROUTER, b"at=info method=GET path=/ connect=5 service=abcms status=abc bytes=-1 dyno=web.1",
     b"\n", {"router": {"at": "info", "method": "GET", "path": "/", "connect_ms": None,
                        "service_ms": None, "status": None, "bytes": None, "dyno": "web.1"}}),
    (ROUTER, b"at=info connect=ms service=5MS status=20x bytes=1.5",
     b"\n", {"router": {"at": "info", "connect_ms": None, "service_ms": None, "status": None,
                        "bytes": None}}),
    # R6
    (ROUTER, b"at=info connect=123456789012345678ms service=1234567890123456789ms "
             b"status=123456789012345678 bytes=1234567890123456789",
     b"\n", {"router": {"at": "info", "connect_ms": 123456789012345678, "service_ms": None,
                        "status": 123456789012345678, "bytes": None}}),
    (ROUTER, b"at=info status=0200 bytes=007 connect=00ms",
     b"\n", {"router": {"at": "info", "status": 200, "bytes": 7, "connect_ms": 0}}),
    # R7
    (ROUTER, b'at=info at=error status=abc status=200 path="/first" path="/second" '
             b'connect=1ms connect=2ms',
     b"\n", {"router": {"at": "info", "status": None, "path": "/first", "connect_ms": 1}}),
    # R7b: keys spelled as the typed members are typed; `connect` and `connect_ms` are one member
    (ROUTER, b"at=info connect_ms=fast service_ms=7 service=3ms connect=1ms",
     b"\n", {"router": {"at": "info", "connect_ms": None, "service_ms": 7}}),
    # R8
    (ROUTER, b'at=info path="/unterminated method=GET', b"\n", {}),
    (ROUTER, b"at=info\tmethod=GET status=200", b"\n", {}),
    (ROUTER, b"canary alive", b"\n", {}),
    # R9
    (ROUTER, b"at=info canary method=GET sample#x=1 count#y status=200",
     b"\n", {"router": {"at": "info", "method": "GET", "sample#x": "1", "status": 200}}),
    # R10
    (ROUTER, b"  at=info   status=200  ", b"\n", {"router": {"at": "info", "status": 200}}),
    # R11
    (ROUTER, 'at=error code=H13 desc="Connection closed without response = ü" new_key= '
             'status=503'.encode(),
     b"\n", {"router": {"at": "error", "code": "H13",
                        "desc": "Connection closed without response = ü", "new_key": None,
                        "status": 503}}),
    # M1
    (("host", "heroku", "web.1"),
     b"source=web.1 dyno=heroku.2808254.d97d0ea7-cf3d-411b-b453-d2943a50b456 "
     b"sample#memory_total=21.00MB sample#memory_rss=21.22MB sample#memory_cache=0.00MB "
     b"sample#memory_swap=0.00MB sample#memory_pgpgin=348836pages "
     b"sample#memory_pgpgout=343403pages sample#memory_quota=512.00MB",
     b"\n", {"metrics": {"sample#memory_total": m(21.0, "MB"), "sample#memory_rss": m(21.22, "MB"),
                         "sample#memory_cache": m(0.0, "MB"), "sample#memory_swap": m(0.0, "MB"),
                         "sample#memory_pgpgin": m(348836.0, "pages"),
                         "sample#memory_pgpgout": m(343403.0, "pages"),
                         "sample#memory_quota": m(512.0, "MB")},
             "fields": {"source": "web.1",
                        "dyno": "heroku.2808254.d97d0ea7-cf3d-411b-b453-d2943a50b456"}}),
    # M2
    (("host", "heroku", "web.1"),
     b"source=web.1 dyno=heroku.2808254.d97d0ea7-cf3d-411b-b453-d2943a50b456 "
     b"sample#load_avg_1m=2.46 sample#load_avg_5m=1.06 sample#load_avg_15m=0.99",
     b"\n", {"metrics": {"sample#load_avg_1m": m(2.46), "sample#load_avg_5m": m(1.06),
                         "sample#load_avg_15m": m(0.99)},
             "fields": {"source": "web.1",
                        "dyno": "heroku.2808254.d97d0ea7-cf3d-411b-b453-d2943a50b456"}}),
    # M3
    (("host", "app", "heroku-postgres"),
     b"source=HEROKU_POSTGRESQL_VIOLET addon=postgresql-sinuous-83720 "
     b"sample#current_transaction=1873 sample#db_size=26219348792bytes sample#tables=13 "
     b"sample#active-connections=92 sample#waiting-connections=1 "
     b"sample#index-cache-hit-rate=0.99723 sample#table-cache-hit-rate=0.99985 "
     b"sample#load-avg-1m=0.365 sample#load-avg-5m=0.43 sample#load-avg-15m=0.46 "
     b"sample#read-iops=0 sample#write-iops=0.40625 sample#tmp-disk-used=543600640 "
     b"sample#tmp-disk-available=72435191808 sample#memory-total=16085852kB "
     b"sample#memory-free=86708kB sample#memory-cached=14906476kB "
     b"sample#memory-postgres=210784kB sample#wal-percentage-used=0.0649",
     b"\n", {"metrics": {"sample#current_transaction": m(1873.0),
                         "sample#db_size": m(26219348792.0, "bytes"),
                         "sample#tables": m(13.0), "sample#active-connections": m(92.0),
                         "sample#waiting-connections": m(1.0),
                         "sample#index-cache-hit-rate": m(0.99723),
                         "sample#table-cache-hit-rate": m(0.99985),
                         "sample#load-avg-1m": m(0.365), "sample#load-avg-5m": m(0.43),
                         "sample#load-avg-15m": m(0.46), "sample#read-iops": m(0.0),
                         "sample#write-iops": m(0.40625),
                         "sample#tmp-disk-used": m(543600640.0),
                         "sample#tmp-disk-available": m(72435191808.0),
                         "sample#memory-total": m(16085852.0, "kB"),
                         "sample#memory-free": m(86708.0, "kB"),
                         "sample#memory-cached": m(14906476.0, "kB"),
                         "sample#memory-postgres": m(210784.0, "kB"),
                         "sample#wal-percentage-used": m(0.0649)},
             "fields": {"source": "HEROKU_POSTGRESQL_VIOLET",
                        "addon": "postgresql-sinuous-83720"}}),
    # M4
    (("host", "app", "heroku-redis"),
     b"source=REDIS addon=redis-cubed-12345 sample#active-connections=1 "
     b"sample#load-avg-1m=0.045 sample#load-avg-5m=0.015 sample#load-avg-15m=0 "
     b"sample#read-iops=0 sample#write-iops=0 sample#memory-total=15664332kB "
     b"sample#memory-free=12582124kB sample#memory-cached=1880116kB "
     b"sample#memory-redis=1103304bytes sample#hit-rate=1 sample#evicted-keys=0",
     b"\n", {"metrics": {"sample#active-connections": m(1.0), "sample#load-avg-1m": m(0.045),
                         "sample#load-avg-5m": m(0.015), "sample#load-avg-15m": m(0.0),
                         "sample#read-iops": m(0.0), "sample#write-iops": m(0.0),
                         "sample#memory-total": m(15664332.0, "kB"),
                         "sample#memory-free": m(12582124.0, "kB"),
                         "sample#memory-cached": m(1880116.0, "kB"),
                         "sample#memory-redis": m(1103304.0, "bytes"),
                         "sample#hit-rate": m(1.0), "sample#evicted-keys": m(0.0)},
             "fields": {"source": "REDIS", "addon": "redis-cubed-12345"}}),
    # M5
    (WEB1, b"measure#db.latency=20ms count#jobs count#x=3 sample#queue.depth=12 source=web.1",
     b"\n", {"metrics": {"measure#db.latency": m(20.0, "ms"), "count#jobs": m(1.0),
                         "count#x": m(3.0), "sample#queue.depth": m(12.0)},
             "fields": {"source": "web.1"}}),
    # M6
    (WEB1, 'sample#x=abc measure#y=1.5.2 count#z=1e5 sample#w=. sample#v=1. sample#u=.5 '
           'measure#t=3µs sample#e= sample#sp="5 MB"'.encode(),
     b"\n", {"fields": {"sample#x": "abc", "measure#y": "1.5.2", "count#z": "1e5",
                        "sample#w": ".", "sample#v": "1.", "sample#u": ".5", "measure#t": "3µs",
                        "sample#e": "", "sample#sp": "5 MB"}}),
    # M7
    (WEB1, b"measure#drift=-12.5ms sample#delta=-3 sample#neg=-0.25 sample#dash=-",
     b"\n", {"metrics": {"measure#drift": m(-12.5, "ms"), "sample#delta": m(-3.0),
                         "sample#neg": m(-0.25)},
             "fields": {"sample#dash": "-"}}),
    # M8
    (WEB1, b'sample#q="5MB" count#r="12" measure#s="2.5ms" note="x"',
     b"\n", {"metrics": {"sample#q": m(5.0, "MB"), "count#r": m(12.0),
                         "measure#s": m(2.5, "ms")},
             "fields": {"note": "x"}}),
    # M9
    (WEB1, b"sample#=5 measure# count# other=1",
     b"\n", {"fields": {"sample#": "5", "measure#": True, "count#": True, "other": "1"}}),
    # M10
    (WEB1, b"Sample#x=1 COUNT#y sample=3 samples#z=4 count#ok=2",
     b"\n", {"metrics": {"count#ok": m(2.0)},
             "fields": {"Sample#x": "1", "COUNT#y": True, "sample": "3", "samples#z": "4"}}),
    # M11
    (WEB1, b"count#jobs count#jobs=5 sample#m=1MB sample#m=2MB",
     b"\n", {"metrics": {"count#jobs": m(1.0), "sample#m": m(1.0, "MB")}}),
    # M12
    (WEB1, b"sample#a=1e sample#b=10kB sample#c=0 sample#d=007 measure#e=1.50s",
     b"\n", {"metrics": {"sample#a": m(1.0, "e"), "sample#b": m(10.0, "kB"),
                         "sample#c": m(0.0), "sample#d": m(7.0), "measure#e": m(1.5, "s")}}),
    # M13
    (("host", "heroku", "scheduler.1"),
     b"Starting process with command `bin/rake cleanup` by user=ops@example.com",
     b"\n", {"fields": {"Starting": True, "process": True, "with": True, "command": True,
                        "`bin/rake": True, "cleanup`": True, "by": True,
                        "user": "ops@example.com"}}),
    # M14
    (("host", "app", "router"), b"at=info status=200 connect=1ms",
     b"\n", {"fields": {"at": "info", "status": "200", "connect": "1ms"}}),
    # M15
    ((None, None, None), b"a=1 count#n",
     b"\n", {"metrics": {"count#n": m(1.0)}, "fields": {"a": "1"}}),
    # M16
    (WEB1, b"sample#x measure#y count#z src=w",
     b"\n", {"metrics": {"count#z": m(1.0)},
             "fields": {"sample#x": True, "measure#y": True, "src": "w"}}),
    # M16b: only bare keys, count# included: no `=` anywhere, so not logfmt
    (WEB1, b"count#jobs count#retries", b"\n", {}),
    # heroku/api prose: no `=`, no object
    (("host", "heroku", "api"), b"Release v42 created by user deploy@example.com", b"\n", {}),
    # F1
    (WEB1, b'level=info msg="user signed in" url=/a?b=c&d=e empty= flag user_id=42',
     b"\n", {"fields": {"level": "info", "msg": "user signed in", "url": "/a?b=c&d=e",
                        "empty": "", "flag": True, "user_id": "42"}}),
    # F2
    (WEB1, b"a=1 a=2 b b=3", b"\n", {"fields": {"a": "1", "b": True}}),
    # F3
    (("host", "app", "worker.1"),
     'ключ=значение 名前="日本 語" café=crème 🚀=launch'.encode(),
     b"\n", {"fields": {"ключ": "значение", "名前": "日本 語", "café": "crème", "🚀": "launch"}}),
    # F4
    (WEB1, b"k=a=b eq== x=1", b"\n", {"fields": {"k": "a=b", "eq": "=", "x": "1"}}),
    # F5
    (WEB1, rb'note="say \"hi\"" path="C:\\tmp\\x" raw="a\b" end=1',
     b"\n", {"fields": {"note": 'say "hi"', "path": "C:\\tmp\\x", "raw": "a\\b", "end": "1"}}),
    # F6
    (WEB1, b"  a=1  b  ", b"\n", {"fields": {"a": "1", "b": True}}),
    # F7
    (WEB1, b"a=\xff b=ok", b"\n", {"fields": {"a": "\ufffd", "b": "ok"}}),
    # F8
    (WEB1, b"x#y=1 [DATABASE] [5-1]=x", b"\n",
     {"fields": {"x#y": "1", "[DATABASE]": True, "[5-1]": "x"}}),
    # F9
    (WEB1, b'a="" b=1', b"\n", {"fields": {"a": "", "b": "1"}}),
    # F10
    (WEB1, b"crlf=yes", b"\r\n", {"fields": {"crlf": "yes"}}),
    # N1
    (WEB1, b'a=1 b"c=2', b"\n", {}),
    (WEB1, b'a=x"y b=1', b"\n", {}),
    # N2
    (WEB1, b'a="abc b=1', b"\n", {}),
    # N3
    (WEB1, b"a=1 =b", b"\n", {}),
    # N4
    (WEB1, b"a=1\tb=2", b"\n", {}),
    # N5, N6, N7
    (WEB1, b"", b"\n", {}),
    (WEB1, b"   ", b"\n", {}),
    (WEB1, b"-", b"\n", {}),
    # N8, N9
    (WEB1, b'Started GET "/" for 1.2.3.4', b"\n", {}),
    (WEB1, b"plain prose without an equals sign", b"\n", {}),
    # N10
    (WEB1, b'a="x"y b=1', b"\n", {}),
    # N11
    (WEB1, b'a="x\x7fy" b=1', b"\n", {}),
    (WEB1, b"a\x7fb=1", b"\n", {}),
    # N12
    (WEB1, b"a=1\nb=2", b"\n", {}),
    # N13
    (WEB1, rb'a="x\" b=1', b"\n", {}),
    # N14
    (WEB1, b"=", b"\n", {}),
    # N16
    (WEB1, b'"quoted"=1', b"\n", {}),
    # N17
    (WEB1, b'a= "b"', b"\n", {}),
]


def make_expand():
    cap = Capture()
    for src, raw, term, _ in EXPAND_CASES:
        pri = 158 if src == ROUTER else (45 if src[1] == "heroku" else 190)
        cap.put(src, raw, pri=pri, term=term)
    data = bytes(cap.data)
    frames = reread(data)
    assert len(frames) == len(EXPAND_CASES) == len(cap.recs)
    out = []
    for f, rec, (_, _, _, want) in zip(frames, cap.recs, EXPAND_CASES):
        r = as_is(rec)
        assert f["record"] == r, (f["record"], r)
        got = expand(r)
        assert got == want, (r["message"], got, want)
        for obj in got.get("metrics", {}).values():
            assert isinstance(obj["value"], float)
        r.update(got)
        out.append(r)
    return data, out


# --------------------------------------------------------------------------------------------
# PostgreSQL's write_syslog (src/backend/utils/error/elog.c), re-implemented on bytes

PG_SYSLOG_LIMIT = 900
C_ISSPACE = b" \t\n\v\f\r"       # isspace() in the C locale (UTF-8 locales agree below 0x80)


def pg_utf_mblen(b):
    if b & 0x80 == 0:
        return 1
    if b & 0xE0 == 0xC0:
        return 2
    if b & 0xF0 == 0xE0:
        return 3
    if b & 0xF8 == 0xF0:
        return 4
    return 1


def pg_mbcliplen(buf, length, limit):
    """pg_encoding_mbcliplen for UTF-8."""
    clen = i = 0
    while length > 0 and i < len(buf) and buf[i] != 0:
        n = pg_utf_mblen(buf[i])
        if clen + n > limit:
            break
        clen += n
        if clen == limit:
            break
        length -= n
        i += n
    return clen


class Chunk:
    def __init__(self, msg, text, start, end, how, clipped):
        self.msg, self.text, self.start, self.end = msg, text, start, end
        self.how, self.clipped = how, clipped   # how the chunk ended; clipped by pg_mbcliplen


def write_syslog(line: bytes, seq: int):
    """The syslog() messages PostgreSQL writes for `line` (syslog_split_messages and
    syslog_sequence_numbers on, the defaults), as Chunks; offsets index `line`."""
    out = []
    length = len(line)
    p = 0
    nlpos = line.find(b"\n")
    if length > PG_SYSLOG_LIMIT or nlpos != -1:
        chunk_nr = 0
        while length > 0:
            if line[p] == 0x0A:                           # if we start at a newline, move ahead
                p += 1
                length -= 1
                nlpos = line.find(b"\n", p)               # recompute the next newline's position
                continue
            buflen = nlpos - p if nlpos != -1 else length  # one line, or as much as will fit
            buflen = min(buflen, PG_SYSLOG_LIMIT)
            buf = line[p:p + buflen]
            before = buflen
            buflen = pg_mbcliplen(buf, buflen, buflen)   # trim to multibyte letter boundary
            if buflen <= 0:
                return out
            buf = buf[:buflen]
            clipped = buflen < before
            nxt = line[p + buflen] if p + buflen < len(line) else None   # None: the '\0'
            if nxt is not None and nxt not in C_ISSPACE:  # not already a word boundary
                i = buflen - 1
                while i > 0 and buf[i] not in C_ISSPACE:
                    i -= 1
                if i > 0:
                    buflen = i
                    buf = buf[:i]
                    how = "backoff"
                else:
                    how = "midword"
            else:
                how = "end" if nxt is None else ("newline" if nxt == 0x0A else "space")
            chunk_nr += 1
            out.append(Chunk(b"[%d-%d] " % (seq, chunk_nr) + buf, buf, p, p + buflen, how,
                             clipped))
            p += buflen
            length -= buflen
    else:
        out.append(Chunk(b"[%d] " % seq + line, line, 0, len(line), "unsplit", False))
    return out


# --------------------------------------------------------------------------------------------
# --rejoin, from the rule book

CHUNK = re.compile(r"(?:\[([A-Za-z0-9_]+)\] )?\[([0-9]{1,20})-([1-9][0-9]{0,8})\] (.*)", re.S)
WS = b" \t\r\v\f"          # the rule book's whitespace (space, tab, CR, vertical tab, form feed)


def chunk_of(message):
    if message is None:
        return None
    c = CHUNK.fullmatch(message)
    return (c[1], c[2], int(c[3]), c[4]) if c else None


def cut_at_limit(a: str, b: str):
    """The rule book: do pieces a, b show a cut at the limit?"""
    ab, bb = a.encode(), b.encode()
    if PG_SYSLOG_LIMIT - 3 <= len(ab) <= PG_SYSLOG_LIMIT:
        return True
    if len(bb) >= 2 and bb[0] in WS and bb[1] not in WS:
        j = 1
        while j < len(bb) and bb[j] not in WS:
            j += 1
        # A word that fills a piece cut at the limit goes on in the next piece.
        goes_on = j == len(bb) and PG_SYSLOG_LIMIT - 3 <= len(bb) <= PG_SYSLOG_LIMIT
        return goes_on or len(ab) + j > PG_SYSLOG_LIMIT
    return False


def heuristic_join(texts):
    out = texts[0]
    for a, b in zip(texts, texts[1:]):
        out += ("" if cut_at_limit(a, b) else "\n") + b
    return out


def drop_empty_lines(s: str):
    return "\n".join(x for x in s.split("\n") if x)


def simulate_rejoin(frames):
    """The rule book's --rejoin on re-read frames: (records, [(offset, 'rejoin')])."""
    out, warns, pending = {}, [], {}

    def src(f):
        r = f["record"]
        return (r["host_name"], r["app_name"], r["process_id"])

    def joined(ch):
        first = dict(ch["pieces"][0]["record"])
        first["message_len"] = None
        if ch["kind"] == "pg":
            tag = f"[{ch['tag']}] " if ch["tag"] is not None else ""
            first["message"] = f"{tag}[{ch['seq']}] " + heuristic_join(ch["texts"])
        else:
            first["message"] = b"".join(p["raw"] for p in ch["pieces"]).decode("utf-8")
        return first

    def finish(ch, complete):
        if complete:
            out[ch["pieces"][0]["idx"]] = joined(ch)
        else:
            for p in ch["pieces"]:
                out[p["idx"]] = p["record"]
            warns.append((ch["pieces"][0]["frame_off"], "rejoin"))

    def pg_done(ch):
        # A PostgreSQL chain ends complete, unless its last piece was cut at the limit.
        return ch["kind"] == "pg" and not (
            PG_SYSLOG_LIMIT - 3 <= len(ch["texts"][-1].encode()) <= PG_SYSLOG_LIMIT)

    def start(f):
        c = chunk_of(f["record"]["message"])
        if c is not None:
            tag, seq, n, text = c
            if n == 1:
                pending[src(f)] = {"kind": "pg", "pieces": [f], "tag": tag, "seq": seq, "n": 1,
                                   "texts": [text]}
            else:
                finish({"pieces": [f]}, complete=False)   # N > 1 continuing no chain
        elif len(f["raw"]) == HEROKU_PIECE:
            pending[src(f)] = {"kind": "10k", "pieces": [f]}
        else:
            out[f["idx"]] = f["record"]

    for f in frames:
        ch = pending.pop(src(f), None)
        if ch is None:
            start(f)
            continue
        if f["idx"] - ch["pieces"][-1]["idx"] > WINDOW:
            finish(ch, complete=pg_done(ch))
            start(f)
        elif ch["kind"] == "pg":
            c = chunk_of(f["record"]["message"])
            if c is not None and c[0] == ch["tag"] and c[1] == ch["seq"]:
                if c[2] == ch["n"] + 1:
                    ch["pieces"].append(f)
                    ch["texts"].append(c[3])
                    ch["n"] += 1
                    pending[src(f)] = ch
                    continue
                finish(ch, complete=False)               # same TAG and SEQ, another N
            else:
                finish(ch, complete=True)                # PostgreSQL moved on
            start(f)
        else:
            ch["pieces"].append(f)                       # whatever it holds
            if len(f["raw"]) == HEROKU_PIECE:
                pending[src(f)] = ch
            else:
                finish(ch, complete=True)
    for ch in pending.values():                          # end of input
        finish(ch, complete=pg_done(ch))
    return [out[k] for k in sorted(out)], warns


# --------------------------------------------------------------------------------------------
# The rejoin capture: cases planted with their planned outcome


class Plan:
    def __init__(self, rng):
        self.rng = rng
        self.cap = Capture()
        self.groups = []
        self.group_of = {}
        self.fill_n = 0

    def put(self, src, raw, **kw):
        pri = kw.pop("pri", 134 if "postgres" in (src[2] or "") else
                     (158 if src == ROUTER else 190))
        return self.cap.put(src, raw, pri=pri, **kw)

    def group(self, complete, message=None):
        g = {"complete": complete, "message": message, "pieces": []}
        self.groups.append(g)
        return g

    def piece(self, g, src, raw, **kw):
        idx = self.put(src, raw, **kw)
        g["pieces"].append(idx)
        self.group_of[idx] = g
        return idx

    def filler(self, before=b"", term=b"\n"):
        """A record of a source that never carries a chain."""
        i = self.fill_n
        self.fill_n += 1
        kind = i % 4
        if kind in (0, 2):
            st = (200, 200, 304, 404, 500)[i % 5]
            raw = (f'at=info method=GET path="/items/{i}?page={i % 7}" fwd="203.0.113.{i % 250}" '
                   f'dyno=web.{1 + i % 3} connect={i % 5}ms service={10 + i % 90}ms status={st} '
                   f'bytes={1000 + i}').encode()
            return self.put(ROUTER, raw, before=before, term=term)
        if kind == 1:
            raw = f'level=info msg="job {i} done" elapsed_ms={i * 3} count#jobs'.encode()
            return self.put(WEB1, raw, before=before, term=term)
        raw = f"Completed 200 OK in {i % 40}ms (Views: {i % 9}.1ms | ActiveRecord: 2.{i % 10}ms)"
        return self.put(("host", "app", "web.2"), raw.encode(), before=before, term=term)

    def fill(self, n):
        for _ in range(n):
            self.filler()

    def interleave(self, streams):
        """Plants the streams' records (callables), each stream in order, mixed at random."""
        streams = [list(s) for s in streams if s]
        while streams:
            s = self.rng.choice(streams)
            s.pop(0)()
            streams = [s for s in streams if s]

    def expected(self):
        recs, out, warns = self.cap.recs, [], []
        for r in recs:
            g = self.group_of.get(r["idx"])
            if g is None:
                out.append(as_is(r))
            elif g["complete"]:
                if r["idx"] == g["pieces"][0]:
                    j = as_is(r)
                    j["message_len"] = None
                    j["message"] = g["message"]
                    out.append(j)
            else:
                out.append(as_is(r))
                if r["idx"] == g["pieces"][0]:
                    warns.append((r["frame_off"], "rejoin"))
        return out, warns


def pg_prefix(tag, seq):
    return (f"[{tag}] " if tag else "") + f"[{seq}] "


def pg_raw(tag, c: Chunk):
    return (f"[{tag}] ".encode() if tag else b"") + c.msg


def pg_split(text: str, seq: int):
    """write_syslog's chunks of `text`, checked against the rule book's join heuristic."""
    line = text.encode()
    chunks = write_syslog(line, seq)
    assert all(c.how != "unsplit" for c in chunks)
    for k in range(1, len(chunks) + 1):
        got = heuristic_join([c.text.decode() for c in chunks[:k]])
        assert got == drop_empty_lines(line[:chunks[k - 1].end].decode()), (seq, k)
    return chunks


def pg_text_of(text: str, chunks, k):
    """The text of chunks 1..k as the rule book's joiner must give it: the original, up to the
    end of chunk k, without empty lines."""
    return drop_empty_lines(text.encode()[:chunks[k - 1].end].decode())


def pg_message(plan, src, tag, seq, text, complete=True):
    """Callables planting all chunks of one PostgreSQL message, as one complete chain."""
    chunks = pg_split(text, seq)
    g = plan.group(complete, pg_prefix(tag, seq) + pg_text_of(text, chunks, len(chunks)))
    return [(lambda c=c: plan.piece(g, src, pg_raw(tag, c))) for c in chunks], chunks


CJK = "日本語のログ記録東京大阪京都名古屋札幌福岡横浜神戸検索結果注文顧客商品在庫配送確認"
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
         "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()


def exact(prefix: str, suffix: str, total: int, rng, alphabet=WORDS):
    """prefix + words + suffix, padded with '.' to exactly `total` bytes (ASCII words)."""
    body = []
    size = len(prefix.encode()) + len(suffix.encode())
    while True:
        w = rng.choice(alphabet)
        if size + len(w) + 1 > total:
            break
        body.append(w)
        size += len(w) + 1
    core = prefix + " ".join(body)
    s = core + "." * (total - len(core.encode()) - len(suffix.encode())) + suffix
    assert len(s.encode()) == total
    return s


def make_rejoin():
    rng = random.Random(SEED)
    plan = Plan(rng)
    pg = lambda n, host="host": (host, "app", f"postgres.{n}")  # noqa: E731

    # ---- section 1: P1-P4, P7, P8 interleaved with router and app lines -------------------
    plan.fill(3)
    cols = ", ".join(f"o.{c}" for c in ("id", "created_at", "updated_at", "status", "total_cents",
                                         "currency", "customer_id", "shipping_address_id"))
    ids = ", ".join(str(rng.randrange(100000, 10000000)) for _ in range(360))
    p1 = (f"sql_error_code = 00000 LOG:  duration: 2345.678 ms  statement: SELECT {cols}, "
          f"c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id IN ({ids}) "
          f"ORDER BY o.created_at DESC LIMIT 500\n")
    s_p1, c_p1 = pg_message(plan, pg(101), "DATABASE", 4711, p1)
    assert len(c_p1) >= 4 and all(c.how == "backoff" for c in c_p1[:-1])
    # P7 (tag): the next message of the same process, one chunk; it ends P1, and is itself ended
    # by the 100-record window (no more records from postgres.101).
    s_p7a, c = pg_message(plan, pg(101), "DATABASE", 4712,
                          "sql_error_code = 00000 LOG:  checkpoint starting: time\n")
    assert len(c) == 1
    # P8: same app and process, another host, P1's SEQ and N=2: an orphan.
    g_imp = plan.group(False)
    s_imp = [lambda: plan.piece(g_imp, pg(101, "d.f00d"),
                                b"[DATABASE] [4711-2] impostor from another host")]

    tags = ", ".join(f"'{rng.choice(WORDS)}-{rng.randrange(1000)}'" for _ in range(160))
    p2 = (f"sql_error_code = 00000 LOG:  duration: 88.1 ms  statement: UPDATE products SET "
          f"tags = ARRAY[{tags}] WHERE sku = 'SKU-1042'\n")
    s_p2, c_p2 = pg_message(plan, pg(102), None, 88, p2)
    assert len(c_p2) >= 2 and all(c.how == "backoff" for c in c_p2[:-1])
    s_p7b, _ = pg_message(plan, pg(102), None, 89,
                          "sql_error_code = 00000 LOG:  connection authorized: user=u1 "
                          "database=d1 SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_"
                          "SHA384, bits=256)\n")

    p3 = ("sql_error_code = 42P01 ERROR:  relation \"order_itemz\" does not exist at character 15\n"
          "sql_error_code = 42P01 STATEMENT:  SELECT oi.id,\n\t       oi.qty\n"
          "\t  FROM order_itemz oi\n\t  JOIN orders o ON o.id = oi.order_id\n\t\n"
          "\t WHERE o.status = 'open'\n\t   AND oi.qty > 0\n")
    s_p3, c_p3 = pg_message(plan, pg(103), "DATABASE", 311, p3)
    assert all(c.how == "newline" for c in c_p3) and len(c_p3) == 8

    while True:   # P4: a 2 KB line inside a multi-line statement, and an empty line
        rows = ", ".join(f"({rng.randrange(1, 99999)}, '{rng.choice(WORDS)}', "
                         f"'{{\"n\": {rng.randrange(1000)}}}')" for _ in range(60))
        p4 = ("sql_error_code = 00000 LOG:  duration: 15.2 ms  statement: INSERT INTO events "
              f"(id, kind, payload)\n\tVALUES {rows}\n\n\tON CONFLICT (id) DO NOTHING\n"
              "\tRETURNING id\n")
        try:
            pg_split(p4, 2001)
            break
        except AssertionError:   # the heuristic would misread this draw (case A3): draw again
            pass
    s_p4, c_p4 = pg_message(plan, pg(104), None, 2001, p4)
    assert any(c.how == "backoff" for c in c_p4) and sum(c.how == "newline" for c in c_p4) >= 3
    # ... then an unsplit message ("[SEQ] text": short and without newline) ends the chain.
    unsplit = write_syslog(b"sql_error_code = 00000 LOG:  unsplit message", 2002)
    assert unsplit[0].how == "unsplit"
    s_p4.append(lambda: plan.put(pg(104), unsplit[0].msg))

    routers = [lambda: plan.filler() for _ in range(12)]
    plan.interleave([s_p1 + s_p7a, s_imp, s_p2 + s_p7b, s_p3, s_p4, routers])

    # ---- section 2: P5, P6 -----------------------------------------------------------------
    hexblob = "".join(rng.choice("0123456789abcdef") for _ in range(2600))
    p5a = ("sql_error_code = 00000 LOG:  statement: INSERT INTO blobs (id, data) VALUES "
           f"(42, decode('{hexblob}', 'hex'))\n")
    s_p5a, c = pg_message(plan, pg(105), "DATABASE", 51, p5a)
    assert [x.how for x in c] == ["backoff", "midword", "midword", "newline"]
    assert len(c[1].text) == 900 and c[1].text[:1] == b" " and len(c[2].text) == 900
    b64 = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                  for _ in range(1900))
    p5b = f"eyJhbGciOiJIUzI1NiJ9.{b64} (jwt rejected)\n"
    s_p5b, c = pg_message(plan, pg(106), None, 52, p5b)
    assert c[0].how == "midword" and len(c[0].text) == 900

    kanji = "".join(rng.choice(CJK) for _ in range(700))
    p6a = ("sql_error_code = 00000 LOG:  statement: INSERT INTO notes (body) VALUES "
           f"('x{kanji}')\n")
    s_p6a, c = pg_message(plan, pg(107), "DATABASE", 61, p6a)
    assert c[1].clipped and len(c[1].text) == 898 and c[1].how == "midword"
    assert len(c[2].text) == 900 and not c[2].clipped and c[2].how == "midword"
    p6b = "payload:" + "A" * 889 + "🚀" * 30 + " launched\n"
    s_p6b, c = pg_message(plan, pg(108), None, 62, p6b)
    assert c[0].clipped and len(c[0].text) == 897 and c[0].how == "midword"
    p6c = ("sql_error_code = 00000 LOG:  statement: SELECT '" + "x" * 895 + "🎉" * 40 +
           "' AS party\n")
    s_p6c, c = pg_message(plan, pg(109), "DATABASE", 63, p6c)
    assert c[0].how == "backoff" and c[1].clipped and len(c[1].text) == 897
    while True:   # CJK words with spaces: at least one cut clipped, then backed off
        words = " ".join("".join(rng.choice(CJK) for _ in range(rng.randrange(2, 8)))
                         for _ in range(140))
        p6d = f"sql_error_code = 00000 LOG:  検索語: {words}\n"
        chunks = write_syslog(p6d.encode(), 64)
        if any(x.clipped and x.how == "backoff" for x in chunks):
            break
    s_p6d, _ = pg_message(plan, pg(110), None, 64, p6d)
    row = "\t".join(f"{rng.randrange(10**6)}\t{rng.choice(WORDS)}\t2026-03-01T12:{i % 60:02d}"
                    for i in range(90))
    p20 = ("sql_error_code = 22P02 ERROR:  invalid input syntax for type integer: \"x\"\n"
           f"sql_error_code = 22P02 CONTEXT:  COPY orders, line 2: \"{row}\"\n")
    s_p20, c = pg_message(plan, pg(122), "DATABASE", 65, p20)
    assert any(x.how == "backoff" and len(x.text) < 897 and c[k + 1].text[:1] == b"\t"
               for k, x in enumerate(c[:-1]))
    # P21: the heuristic's boundaries, each side once.
    l1 = exact("sql_error_code = 00000 LOG:  statement: SELECT ", " FROM t", 896, rng)
    l2 = exact("sql_error_code = 00000 DETAIL:  ", "", 896, rng)
    l3 = exact("sql_error_code = 00000 HINT:  ", "", 890, rng) + " abcdefghij tail"
    p21 = f"{l1}\n{l2}\n\tAND b = 2\n{l3}\n"
    s_p21, c = pg_message(plan, pg(123), None, 66, p21)
    assert [len(x.text) for x in c] == [896, 896, 10, 890, 16]
    assert [x.how for x in c] == ["newline"] * 3 + ["backoff", "newline"]
    apps = [lambda: plan.filler() for _ in range(10)]
    plan.interleave([s_p5a, s_p5b, s_p6a, s_p6b, s_p6c, s_p6d, s_p20, s_p21, apps])

    # ---- section 3: P9-P16, U1 ---------------------------------------------------------------
    ids = ", ".join(str(rng.randrange(10, 99999)) for _ in range(500))
    p9 = f"sql_error_code = 00000 LOG:  statement: DELETE FROM carts WHERE id IN ({ids})\n"
    c9 = pg_split(p9, 950)
    assert len(c9) == 4
    # P9: the previous frame has no trailing newline, so chunk 1's frame starts mid-line.
    plan.put(ROUTER, b"at=info method=GET path=/nl status=200 bytes=12", term=b"")
    g1, g4 = plan.group(False), plan.group(False)
    plan.piece(g1, pg(111), pg_raw("DATABASE", c9[0]))
    plan.filler()
    plan.piece(g1, pg(111), pg_raw("DATABASE", c9[1]))
    plan.filler()
    plan.piece(g4, pg(111), pg_raw("DATABASE", c9[3]))    # chunk 3 never came
    # P10: an orphan after a blank CRLF line.
    g = plan.group(False)
    plan.piece(g, pg(112), b"[DATABASE] [555-2] sql_error_code = 00000 STATEMENT:  SELECT 1",
               before=b"\r\n")
    # P11
    g = plan.group(True, "[DATABASE] [600] sql_error_code = 00000 LOG:  first")
    plan.piece(g, pg(113), b"[DATABASE] [600-1] sql_error_code = 00000 LOG:  first")
    g = plan.group(False)
    plan.piece(g, pg(113), b"[HEROKU_POSTGRESQL_RED] [600-2] other database")
    plan.filler()
    g = plan.group(True, "[601] untagged")
    plan.piece(g, pg(114), b"[601-1] untagged")
    g = plan.group(False)
    plan.piece(g, pg(114), b"[DATABASE] [601-2] tagged")
    # P12: chunk 1 sent twice.
    t12 = ("sql_error_code = 00000 LOG:  statement: SELECT " +
           ", ".join(f"col_{i}" for i in range(150)) + " FROM wide\n")
    c12 = pg_split(t12, 700)
    assert len(c12) == 2
    g = plan.group(False)
    plan.piece(g, pg(115), pg_raw("DATABASE", c12[0]))
    plan.filler()
    g = plan.group(True, pg_prefix("DATABASE", 700) + pg_text_of(t12, c12, 2))
    plan.piece(g, pg(115), pg_raw("DATABASE", c12[0]))
    plan.piece(g, pg(115), pg_raw("DATABASE", c12[1]))
    # P13: not chunks (plain records of one source).
    look = ("host", "app", "worker.9")
    for raw in [b"[DATABASE]  [5-1] two spaces after the tag", b"[5-01] leading zero in N",
                b"[5-1]no space", b"[DATA-BASE] [5-1] tag with a dash",
                b"[123456789012345678901-1] 21-digit SEQ", b"[5-1234567890] 10-digit N",
                b" [5-1] leading space", b"[5 -1] space in the brackets", b"[-1] no SEQ",
                b"[5-] no N", b"[5-1]"]:
        assert chunk_of(raw.decode()) is None
        plan.put(look, raw)
    # P14: chunks at the edges of the grammar (one source, back to back).
    edge = ("host", "app", "worker.8")
    for raw, complete, message in [
            (b"[12345678901234567890-1] twenty-digit SEQ", True,
             "[12345678901234567890] twenty-digit SEQ"),
            (b"[7-123456789] nine-digit N", False, None),
            (b"[8-1] ", True, "[8] "),
            (b"[9-1]   leading spaces kept", True, "[9]   leading spaces kept"),
            (b"[HEROKU_POSTGRESQL_RED2] [10-1] tag with digits", True,
             "[HEROKU_POSTGRESQL_RED2] [10] tag with digits"),
            (b"[10-1] [11-1] nested", True, "[10] [11-1] nested")]:
        g = plan.group(complete, message)
        plan.piece(g, edge, raw)
    plan.put(edge, b"done")
    # U1: invalid UTF-8, frame starting mid-line.
    plan.put(ROUTER, b"at=info method=GET path=/u1 status=200", term=b"")
    plan.put(("host", "app", "web.3"), b"bytes from a broken encoder: \xc3( end")
    # P15: a logfmt-shaped statement whose quoted value spans chunks.
    stmt = "SELECT " + ", ".join(f"t.{rng.choice(WORDS)}_{i}" for i in range(130)) + " FROM t"
    p15 = f'level=LOG measure#db.duration=12.5ms statement="{stmt}"\n'
    s_p15, c = pg_message(plan, pg(116), "DATABASE", 77, p15)
    assert len(c) >= 2 and logfmt(c[0].text.decode()) is None
    plan.interleave([s_p15, [lambda: plan.filler() for _ in range(3)]])
    # P16: a 10,000-byte message that is a chunk.
    head = "[DATABASE] [900-1] "
    text16 = exact("sql_error_code = 00000 LOG:  statement: SELECT '", "'",
                   HEROKU_PIECE - len(head), rng)
    g = plan.group(True, "[DATABASE] [900] " + text16)
    plan.piece(g, pg(117), (head + text16).encode())
    plan.filler()
    g = plan.group(True, "[DATABASE] [901] sql_error_code = 00000 LOG:  checkpoint complete")
    plan.piece(g, pg(117), b"[DATABASE] [901-1] sql_error_code = 00000 LOG:  checkpoint complete")

    # ---- section 4: H1-H3 ---------------------------------------------------------------------
    h1 = exact('at=info event=bulk_import count#rows=2500 payload="', '" done=true', 25000, rng)
    b1 = h1.encode()
    g = plan.group(True, h1)
    src1 = ("host", "app", "bulk.1")
    s_h1 = [lambda k=k: plan.piece(g, src1, b1[k:k + HEROKU_PIECE]) for k in (0, 10000, 20000)]
    assert len(b1[20000:]) == 5000
    prefix = 'level=info note="'
    pad = "p" * ((HEROKU_PIECE - 1 - len(prefix)) % 3)     # a character starts at byte 9,999
    h2 = prefix + pad + "".join(rng.choice(CJK) for _ in range((15000 - 2 - 18) // 3))
    h2 += "." * (15000 - 1 - len(h2.encode())) + '"'
    b2 = h2.encode()
    assert len(b2) == 15000 and b2[9999] >= 0xE0 and b2[10000] & 0xC0 == 0x80
    g2 = plan.group(True, h2)
    src2 = ("host", "app", "export.2")
    s_h2 = [lambda: plan.piece(g2, src2, b2[:10000]), lambda: plan.piece(g2, src2, b2[10000:])]
    h3 = exact('at=info event=export_chunk data="', '"', 20000, rng)
    tail3 = "at=info event=export_done rows=20"
    g3 = plan.group(True, h3 + tail3)
    src3 = ("host", "app", "export.3")
    b3 = h3.encode()
    s_h3 = [lambda: plan.piece(g3, src3, b3[:10000]), lambda: plan.piece(g3, src3, b3[10000:]),
            lambda: plan.filler(), lambda: plan.filler(),
            lambda: plan.piece(g3, src3, tail3.encode())]
    s_p7c, _ = pg_message(plan, pg(118), "DATABASE", 1201,
                          "sql_error_code = 00000 LOG:  automatic vacuum of table \"d1.public."
                          "orders\": index scans: 1\n")
    s_p7d, _ = pg_message(plan, pg(118), "DATABASE", 1202,
                          "sql_error_code = 00000 LOG:  automatic analyze of table \"d1.public."
                          "orders\" 東京\n")
    h7 = exact('at=info event=near_miss data="', '"', HEROKU_PIECE - 1, rng).encode()
    src7 = ("host", "app", "near.7")
    s_h7 = [lambda: plan.put(src7, h7), lambda: plan.filler(),
            lambda: plan.put(src7, b"at=info event=after_near_miss")]
    h8 = exact('at=info event=almost_two data="', '"', 2 * HEROKU_PIECE - 1, rng)
    b8 = h8.encode()
    g8 = plan.group(True, h8)
    src8 = ("host", "app", "almost.8")
    s_h8 = [lambda: plan.piece(g8, src8, b8[:10000]), lambda: plan.piece(g8, src8, b8[10000:]),
            lambda: plan.put(src8, b"at=info event=after_almost_two")]
    assert len(b8[10000:]) == HEROKU_PIECE - 1
    plan.interleave([s_h1, s_h2, s_h3, s_h7, s_h8, s_p7c + s_p7d,
                     [lambda: plan.filler() for _ in range(8)]])

    # ---- section 5: windows (P17, P18, H4, H5) ------------------------------------------------
    text17 = "sql_error_code = 00000 LOG:  statement: SELECT " + ", ".join(
        f"sum(x_{i})" for i in range(240)) + " FROM facts\n"
    s17, c17 = pg_message(plan, pg(119), "DATABASE", 1700, text17)
    # Chunk 3 ends where byte 900 is a space already (no back-off): TEXT 900 + " word".
    assert [c.how for c in c17] == ["backoff", "backoff", "space", "newline"]
    s17[0]()
    s17[1]()
    last = s17[2]()
    plan.fill(WINDOW - 1)
    assert s17[3]() - last == WINDOW                   # 99 records between: within the window
    text = "sql_error_code = 00000 LOG:  statement: SELECT " + ", ".join(
        f"sum(x_{i})" for i in range(200)) + " FROM facts\n"
    c18 = pg_split(text, 1800)
    assert len(c18) == 3
    ga = plan.group(True, pg_prefix(None, 1800) + pg_text_of(text, c18, 2))
    gb = plan.group(False)
    plan.piece(ga, pg(120), pg_raw(None, c18[0]))
    last = plan.piece(ga, pg(120), pg_raw(None, c18[1]))
    plan.fill(WINDOW)
    assert plan.piece(gb, pg(120), pg_raw(None, c18[2])) - last == WINDOW + 1
    h4 = exact('at=info event=report rows="', '"', 13000, rng).encode()
    g = plan.group(True, h4.decode())
    last = plan.piece(g, ("host", "app", "report.4"), h4[:10000])
    plan.fill(WINDOW - 1)
    assert plan.piece(g, ("host", "app", "report.4"), h4[10000:]) - last == WINDOW
    h5 = exact('at=info event=dump data="', '"', 21000, rng).encode()
    g = plan.group(False)
    plan.put(ROUTER, b"at=info method=GET path=/h5 status=200 bytes=1", term=b"")
    plan.piece(g, ("host", "app", "dump.5"), h5[:10000])
    last = plan.piece(g, ("host", "app", "dump.5"), h5[10000:20000])
    plan.fill(WINDOW)
    assert plan.put(("host", "app", "dump.5"), h5[20000:]) - last == WINDOW + 1

    # ---- section 6: the end of input (P19, H6) ------------------------------------------------
    c19 = pg_split(text, 1900)
    g19 = plan.group(True, pg_prefix("DATABASE", 1900) + pg_text_of(text, c19, 2))
    h6 = exact('at=info event=final blob="', '"', 20000, rng).encode()
    g6 = plan.group(False)
    plan.piece(g19, pg(121), pg_raw("DATABASE", c19[0]))
    plan.filler(before=b"\n")
    plan.piece(g6, ("host", "app", "final.6"), h6[:10000])
    plan.piece(g19, pg(121), pg_raw("DATABASE", c19[1]))
    plan.piece(g6, ("host", "app", "final.6"), h6[10000:])
    plan.filler()
    plan.filler()

    data = bytes(plan.cap.data)
    frames = reread(data)
    assert len(frames) == len(plan.cap.recs), (len(frames), len(plan.cap.recs))
    for f, r in zip(frames, plan.cap.recs):
        assert (f["frame_off"], f["msg_off"], f["raw"]) == (r["frame_off"], r["msg_off"], r["raw"])
        assert f["record"] == as_is(r)
    want, want_w = plan.expected()
    got, got_w = simulate_rejoin(frames)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a == b, (a["message"][:200], b["message"][:200])
    assert sorted(got_w) == sorted(want_w), (got_w, want_w)
    warns = sorted(want_w + utf8_warnings(frames))
    assert len(data) < 300_000
    return data, want, [(*line_col(data, off), code) for off, code in warns]


# --------------------------------------------------------------------------------------------
# The heuristic's known misreadings (A1-A4 in the docstring), shown on PostgreSQL's own chunks


def assert_heuristic_limits():
    def misread(text):
        chunks = write_syslog(text.encode(), 1)
        return heuristic_join([c.text.decode() for c in chunks]) != drop_empty_lines(text)
    assert misread("a" * 900 + "\nNEXT line\n")                                       # A1
    a2 = " ".join(["word"] * 400)[:1797]          # cut once at 899, the rest is 898 bytes
    assert len(write_syslog(a2.encode(), 1)[-1].text) == 898
    assert misread(a2 + "\nNEXT line\n")                                                # A2
    assert misread(" ".join(["word"] * 356) + "\n\tAND_a_rather_long_identifier_name = 1\n")  # A3
    assert not misread("a " + "日" * 400 + "\n")                                       # A4
    assert not misread("SELECT " + "x" * 888 + "\n    FROM orders\n")                  # A5


# --------------------------------------------------------------------------------------------


def dump(records):
    lines = []
    for r in records:
        line = json.dumps(r, ensure_ascii=False, separators=(",", ":"))
        assert json.loads(line) == r
        lines.append(line + "\n")
    return "".join(lines).encode("utf-8")


def main():
    assert_heuristic_limits()
    os.makedirs(HERE, exist_ok=True)
    files = {}
    data, records = make_expand()
    files["expand.drain"] = data
    files["expand.expected.ndjson"] = dump(records)
    data, records, warnings = make_rejoin()
    files["rejoin.drain"] = data
    files["rejoin.expected.ndjson"] = dump(records)
    files["rejoin.warnings.tsv"] = "".join(f"{a}\t{b}\t{c}\n" for a, b, c in warnings).encode()
    both = []
    for r in records:
        r = dict(r)
        r.update(expand(r))
        both.append(r)
    files["both.expected.ndjson"] = dump(both)
    for name, content in files.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(content)


if __name__ == "__main__":
    main()
