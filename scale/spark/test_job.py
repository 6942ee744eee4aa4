#!/usr/bin/env python3
"""End-to-end test of scale/spark/convert.py against drainpipe itself.

    scale/spark/setup.sh target/spark-venv
    target/spark-venv/bin/python scale/spark/test_job.py --drainpipe target/release/drainpipe \\
        --python-for-spark target/spark-venv/bin/python

It generates small captures with ../shared/bench/gen-drain (found relative to the repository
root) and by hand: plain and gzip, in nested directories, octet frames, syslog lines and
`heroku logs` text, bad frames, a file of nothing but bad frames, an empty file, names that
start with . and _ (Spark's readers skip those), a name with glob characters, timestamps with
0 to 9 fraction digits, offsets, years 0000 to 9999 and null, an HTTP capture with a Logplex
retry and a wrong drain token, and a truncated gzip. Then it runs the job five times:

1. ``python convert.py --master local[2]`` over everything, --partition-by date, the
   files-from route, the binary by path, the drain token from the environment: exit 3
   (the truncated gzip);
2. ``spark-submit --master local[2] --files DRAINPIPE convert.py`` over everything but the
   truncated gzip (a glob), --source-file, the stdin route, the binary by bare name: exit 0;
3. two --input, --format ndjson, --partition-by date (read back here without Spark): exit 0;
4. into an existing output: exit 2, the output untouched;
5. with a drainpipe that crashes on one file: exit 4, the file named, no output left.

For runs 1 to 3 it checks, against ``drainpipe convert --rejects`` and ``drainpipe validate
--report json`` run here on each file with the same options:

- the table's schema, exactly (Parquet runs);
- its rows are exactly drainpipe's records, as multisets of tuples: timestamps compared as
  microseconds since the epoch, computed here from drainpipe's text with Python's own
  arithmetic (the fraction truncated to 6 digits), and ``date`` is their UTC date;
- _rejects/REL.rejects is byte-identical to ``drainpipe convert --rejects`` (absent = empty);
- _reports/REL.json is the same JSON document as ``drainpipe validate --report json``;
- _inputs.ndjson lists every input; the totals line (stdout, exactly one line) and
  _totals.json add up, with the exit code;
- no drain token appears in any side output.

Only the standard library is needed here; PySpark is needed by --python-for-spark. It prints
each check and what differed, and "N passed, N failed" last; any failure exits 1.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GEN_DRAIN = REPO.parent / "shared" / "bench" / "gen-drain"
JOB = HERE / "convert.py"

TOKEN = "d.0f6c1a52-8d4e-4d8e-9a3b-6f1e2d3c4b5a"
WRONG_TOKEN = "d.11111111-2222-3333-4444-555555555555"
FIELDS = (
    "message_len",
    "priority",
    "version",
    "timestamp",
    "host_name",
    "app_name",
    "process_id",
    "message_id",
    "message",
)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
GREGORIAN_CYCLE_US = 146097 * 86400 * 10**6  # 400 years, exactly, in microseconds
DAY_US = 86400 * 10**6


class Checks:
    """Collects pass/fail results and prints what differed."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"ok: {what}")
        else:
            self.failed += 1
            print(f"FAIL: {what}")
            if detail:
                print("  " + detail.replace("\n", "\n  "))
        return ok


# --------------------------------------------------------------------------------------------
# Inputs


def frame(body: str) -> bytes:
    """An RFC 6587 octet frame: LEN SP BODY (LEN counts BODY's bytes, newline included)."""
    b = body.encode("utf-8")
    return str(len(b)).encode() + b" " + b


def timestamp_capture() -> bytes:
    """Frames whose timestamps exercise truncation to microseconds and the date partition."""
    stamps = [
        "2026-03-01T12:00:00Z",
        "2026-03-01T12:00:00.1Z",
        "2026-03-01T12:00:00.123456Z",
        "2026-03-01T12:00:00.1234567Z",  # 7 digits: ...123456
        "2026-03-01T12:00:00.99999999Z",  # 8 digits: ...999999, not rounded up
        "2026-03-01T23:59:59.999999999Z",  # 9 digits: stays on 2026-03-01 (rounding: 03-02)
        "2026-03-02T05:29:59.9999995+05:30",  # UTC 2026-03-01T23:59:59.9999995Z
        "2026-02-28T16:00:00.000000001-08:00",  # UTC 2026-03-01T00:00:00.000000001Z
        "2024-02-29T00:00:00.5Z",  # leap day
        "1582-10-04T23:59:59.999999999Z",  # before the Gregorian switch (no rebasing)
        "0001-01-01T00:00:00.000001Z",
        "0000-03-01T00:00:00Z",  # year 0, proleptic Gregorian
        "9999-12-31T23:59:59.999999999Z",
        "-",  # null timestamp: __HIVE_DEFAULT_PARTITION__
    ]
    out = b""
    for i, ts in enumerate(stamps):
        out += frame(f"<190>1 {ts} host.example app web.{i} - fraction case {i}\n")
    out += frame("<13>1 2026-03-01T01:02:03.5Z h app worker.1 - \n")  # empty message
    out += frame("<13>1 2026-03-01T01:02:03.5Z h app worker.1 - -\n")  # null message
    out += frame(
        "<13>1 2026-03-01T01:02:03.25Z h app worker.1 - Traceback:\n  line 1\n  "
        'line 2 "quoted" \\ tab\t ünïcødé 日本語 😀 \u2028\n'
    )
    return out


def http_capture() -> bytes:
    """Saved drain POSTs: a good request, its retry (a duplicate), one with a wrong token."""

    def post(frame_id: str, token: str, stamps: Sequence[str]) -> bytes:
        body = b"".join(frame(f"<190>1 {ts} host app web.1 - via http {ts}\n") for ts in stamps)
        head = (
            "POST /logs HTTP/1.1\r\nHost: drain.example.com\r\n"
            "Content-Type: application/logplex-1\r\n"
            f"Logplex-Msg-Count: {len(stamps)}\r\nLogplex-Frame-Id: {frame_id}\r\n"
            f"Logplex-Drain-Token: {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    return (
        post("f-1", TOKEN, ["2026-03-01T10:00:00.000001+00:00", "2026-03-01T10:00:01Z"])
        + post("f-1", TOKEN, ["2026-03-01T10:00:00.000001+00:00", "2026-03-01T10:00:01Z"])
        + post("f-2", WRONG_TOKEN, ["2026-03-01T10:00:02Z"])
        + post("f-3", TOKEN, ["2026-03-01T10:00:03.1234567891+00:00"])  # 10 digits: rejected
    )


def gen(args: Sequence[str], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(GEN_DRAIN), *args, "--jobs", "1", "--out", str(out)], check=True
    )


def gzip_file(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    with open(path, "rb") as src, gzip.open(target, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()
    return target


def make_inputs(root: Path) -> Tuple[List[Path], Path]:
    """Write the test captures under root/in; returns (good files, the truncated gzip)."""
    base = root / "in"
    gen(["--size", "1536K", "--seed", "11"], base / "a" / "2026-03" / "x.drain")
    y = base / "a" / "2026-03" / "deep" / "er" / "y.drain"
    gen(["--size", "1M", "--seed", "12", "--bad-rate", "0.02"], y)
    gzip_file(y)
    gen(["--size", "512K", "--seed", "13", "--format", "lines", "--bad-rate", "0.01"],
        base / "b" / "z.log")
    w = base / "b" / "cli" / "w.txt"
    gen(["--size", "512K", "--seed", "14", "--format", "cli", "--ansi"], w)
    gzip_file(w)
    gen(["--frames", "40", "--seed", "15", "--bad-rate", "1", "--bad-kinds", "pri-range,version"],
        base / "c" / "only-bad.drain")
    (base / "c" / "empty.drain").write_bytes(b"")
    # Spark's own listings skip names starting with . or _: the job must not.
    gen(["--frames", "30", "--seed", "17"], base / "c" / ".hidden.drain")
    gen(["--frames", "30", "--seed", "18", "--format", "lines"], base / "c" / "_underscore.log")
    gen(["--size", "64K", "--seed", "16", "--unicode-rate", "0.5"],
        base / "c" / "we ird[1] {name}.drain")
    (base / "d").mkdir(parents=True)
    (base / "d" / "fractions.drain").write_bytes(timestamp_capture())
    with gzip.open(base / "d" / "fractions2.drain.gz", "wb") as f:
        f.write(timestamp_capture())
    (base / "e").mkdir(parents=True)
    (base / "e" / "posts.http").write_bytes(http_capture())
    # A gzip cut short: drainpipe exits 2 after the records it could read.
    (base / "z-bad").mkdir(parents=True)
    full = gzip.compress((base / "a" / "2026-03" / "x.drain").read_bytes()[:400_000])
    trunc = base / "z-bad" / "trunc.drain.gz"
    trunc.write_bytes(full[: len(full) // 2])
    good = sorted(p for p in base.rglob("*") if p.is_file() and p != trunc)
    return good, trunc


# --------------------------------------------------------------------------------------------
# What drainpipe itself says, file by file


def ts_micros(text: Optional[str]) -> Optional[int]:
    """Microseconds since the epoch of drainpipe's UTC timestamp, the fraction truncated."""
    if text is None:
        return None
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z", text)
    assert m, f"drainpipe wrote an unexpected timestamp {text!r}"
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    shift = 0
    if year < 1:  # datetime has no year 0: compute 400 years (one Gregorian cycle) later
        year += 400
        shift = GREGORIAN_CYCLE_US
    whole = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone.utc)
    fraction = (m.group(7) or "").ljust(9, "0")[:6]
    return (whole - EPOCH) // dt.timedelta(microseconds=1) - shift + int(fraction)


class Reference:
    """drainpipe convert / validate on one file, run here."""

    def __init__(self, drainpipe: str, path: Path, workdir: Path, env: Dict[str, str]):
        self.path = path
        rejects = workdir / "ref.rejects"
        if rejects.exists():
            rejects.unlink()
        conv = subprocess.run(
            [drainpipe, "convert", "--quiet", "--rejects", str(rejects), "--", str(path)],
            capture_output=True,
            env=env,
        )
        self.exit_code = conv.returncode
        self.stderr = conv.stderr.decode("utf-8", "replace")
        self.records = [json.loads(line) for line in conv.stdout.decode().split("\n")[:-1]]
        self.rejects = rejects.read_bytes() if rejects.exists() else b""
        val = subprocess.run(
            [drainpipe, "validate", "--report", "json", "--", str(path)],
            capture_output=True,
            env=env,
        )
        self.report = json.loads(val.stdout)
        self.validate_exit = val.returncode


def expected_rows(refs: Sequence[Reference], source_file: bool) -> collections.Counter:
    rows = collections.Counter()
    for ref in refs:
        for rec in ref.records:
            assert list(rec) == list(FIELDS), f"drainpipe record keys changed: {list(rec)}"
            row = [rec[k] for k in FIELDS]
            row[3] = ts_micros(row[3])
            if source_file:
                row.append(str(ref.path))
            rows[tuple(row)] += 1
    return rows


# --------------------------------------------------------------------------------------------
# What the job wrote

READER = r"""
import json, sys
from pyspark.sql import SparkSession, functions as F
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
for table, fmt, dump in zip(sys.argv[1::3], sys.argv[2::3], sys.argv[3::3]):
    df = spark.read.format(fmt).load(table) if fmt == "parquet" else None
    with open(dump, "w", encoding="utf-8") as out:
        out.write(json.dumps([[f.name, f.dataType.simpleString(), f.nullable] for f in df.schema]) + "\n")
        cols = []
        for f in df.schema:
            if f.name == "timestamp":
                cols.append(F.unix_micros("timestamp").alias("timestamp"))
            elif f.name == "date":
                cols.append(F.unix_date("date").alias("date"))
            else:
                cols.append(F.col(f.name))
        for row in df.select(*cols).toLocalIterator():
            out.write(json.dumps(list(row), ensure_ascii=False) + "\n")
"""


def read_tables(python: str, tables: Sequence[Tuple[Path, Path]]) -> None:
    """Dump each table (schema, then rows) to a JSON-lines file, with PySpark."""
    argv = []
    for table, dump in tables:
        argv += [str(table), "parquet", str(dump)]
    subprocess.run([python, "-c", READER, *argv], check=True, stderr=subprocess.DEVNULL)


def load_dump(dump: Path) -> Tuple[list, List[list]]:
    lines = dump.read_text(encoding="utf-8").split("\n")[:-1]  # not splitlines(): U+2028
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def days(date_text: str) -> Optional[int]:
    """Days since 1970-01-01 of a partition directory's date (None for the null partition)."""
    if date_text == "__HIVE_DEFAULT_PARTITION__":
        return None
    micros = ts_micros(date_text + "T00:00:00Z")
    return micros // DAY_US


def load_ndjson_table(out: Path) -> Tuple[None, List[list]]:
    """Rows of a --format ndjson --partition-by date table, read here without Spark."""
    rows = []
    for part in sorted(out.glob("date=*/part-*")):
        date = days(part.parent.name[len("date="):])
        for line in part.read_bytes().split(b"\n")[:-1]:
            rec = json.loads(line)
            assert list(rec) == list(FIELDS), f"{part}: keys {list(rec)}"
            row = [rec[k] for k in FIELDS]
            row[3] = ts_micros(row[3])
            rows.append(row + [date])
    return None, rows


def show_counter_diff(want: collections.Counter, got: collections.Counter) -> str:
    missing = want - got
    extra = got - want
    out = [f"{sum(missing.values())} rows missing from the table, {sum(extra.values())} extra"]
    for label, c in (("missing", missing), ("extra", extra)):
        for row, n in list(c.items())[:5]:
            out.append(f"{label} x{n}: {repr(row)[:300]}")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Runs


def run_job(cmd: List[str], env: Dict[str, str], log: Path) -> Tuple[int, str, float]:
    start = time.monotonic()
    with open(log, "wb") as err:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, env=env, timeout=600)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), time.monotonic() - start


def check_run(
    c: Checks,
    label: str,
    out: Path,
    code: int,
    stdout: str,
    want_code: int,
    refs: Sequence[Reference],
    input_root: Path,
    table: Tuple[Optional[list], List[list]],
    partitioned: bool,
    source_file: bool,
    log: Path,
) -> None:
    """Compare one run's table, side outputs, totals and exit code with drainpipe's own.

    ``table`` is (schema or None, rows); each row lists the columns in table order, the
    timestamp as microseconds and the date as days since the epoch.
    """
    c.check(
        code == want_code,
        f"{label}: exit code {want_code}",
        f"got {code}; stderr ends:\n{log.read_text(errors='replace')[-3000:]}",
    )
    schema, rows = table
    want_schema = [
        ["message_len", "bigint", True],
        ["priority", "int", True],
        ["version", "string", True],
        ["timestamp", "timestamp", True],
        ["host_name", "string", True],
        ["app_name", "string", True],
        ["process_id", "string", True],
        ["message_id", "string", True],
        ["message", "string", True],
    ]
    if source_file:
        want_schema.append(["source_file", "string", True])
    if partitioned:
        want_schema.append(["date", "date", True])
    if schema is not None:
        c.check(schema == want_schema, f"{label}: table schema",
                f"got {schema}\nwant {want_schema}")

    # rows
    got = collections.Counter()
    bad_dates = []
    for row in rows:
        row = list(row)
        if partitioned:
            date = row.pop()
            ts = row[3]
            want_date = None if ts is None else ts // DAY_US
            if date != want_date:
                bad_dates.append((row, date, want_date))
        got[tuple(row)] += 1
    want = expected_rows(refs, source_file)
    c.check(got == want, f"{label}: table rows == drainpipe's records ({sum(want.values())})",
            show_counter_diff(want, got))
    if partitioned:
        c.check(not bad_dates, f"{label}: date column is the UTC date of timestamp",
                repr(bad_dates[:5]))
        nulls = any(r.get("timestamp") is None for ref in refs for r in ref.records)
        c.check(
            nulls and (out / "date=__HIVE_DEFAULT_PARTITION__").is_dir(),
            f"{label}: null timestamps are in date=__HIVE_DEFAULT_PARTITION__",
        )
        c.check(
            (out / "date=2026-03-01").is_dir() and not (out / "date=2026-03-02").exists()
            and (out / "date=0000-03-01").is_dir(),
            f"{label}: 23:59:59.999999999 (and +05:30's 05:29:59.9999995) stay on 2026-03-01",
        )

    # side outputs
    rej_diff, rep_diff = [], []
    for ref in refs:
        rel = ref.path.relative_to(input_root).as_posix()
        rej = out / "_rejects" / f"{rel}.rejects"
        got_rej = rej.read_bytes() if rej.exists() else b""
        if got_rej != ref.rejects or (rej.exists() and not ref.rejects):
            rej_diff.append(f"{rel}: {len(got_rej)} bytes, drainpipe --rejects {len(ref.rejects)}")
        rep = out / "_reports" / f"{rel}.json"
        if not rep.exists():
            rep_diff.append(f"{rel}: no report")
            continue
        got_rep = json.loads(rep.read_bytes())
        if got_rep != ref.report:
            rep_diff.append(
                f"{rel}: report differs\n  job:       {json.dumps(got_rep)[:600]}\n"
                f"  drainpipe: {json.dumps(ref.report)[:600]}"
            )
    c.check(not rej_diff, f"{label}: _rejects/ byte-identical to drainpipe --rejects",
            "\n".join(rej_diff))
    c.check(not rep_diff, f"{label}: _reports/ equal drainpipe validate --report json",
            "\n".join(rep_diff))
    n_reports = sum(1 for p in (out / "_reports").rglob("*.json"))
    n_rejects = sum(1 for p in (out / "_rejects").rglob("*.rejects")) if (out / "_rejects").is_dir() else 0
    c.check(n_reports == len(refs) and n_rejects == sum(1 for r in refs if r.rejects),
            f"{label}: one report per input, one rejects file per input with rejects",
            f"{n_reports} reports, {n_rejects} rejects files for {len(refs)} inputs")
    index_file = out / "_inputs.ndjson"
    index = [json.loads(l) for l in index_file.read_text().split("\n")[:-1]] if index_file.exists() else []
    c.check(sorted(i["file"] for i in index) == sorted(str(r.path) for r in refs)
            and all(i["exit"] == r.exit_code for i, r in zip(
                sorted(index, key=lambda i: i["file"]), sorted(refs, key=lambda r: str(r.path)))),
            f"{label}: _inputs.ndjson lists every input with drainpipe's exit code")

    # totals
    lines = stdout.splitlines()
    ok = c.check(len(lines) == 1, f"{label}: exactly one line on stdout", repr(stdout[:2000]))
    if ok:
        totals = json.loads(lines[0])
        errors_by_code: Dict[str, int] = collections.Counter()
        warnings_by_code: Dict[str, int] = collections.Counter()
        for ref in refs:
            errors_by_code.update(ref.report["summary"]["errors_by_code"])
            warnings_by_code.update(ref.report["summary"]["warnings_by_code"])
        s = lambda key: sum(r.report["summary"][key] for r in refs)  # noqa: E731
        want_totals = {
            "files": len(refs),
            "files_failed": sum(r.exit_code == 2 for r in refs),
            "files_with_errors": sum(r.exit_code == 1 for r in refs),
            "input_bytes": sum(r.path.stat().st_size for r in refs),
            "frames": s("frames"),
            "records": sum(len(r.records) for r in refs),
            "rejects": s("invalid"),
            "warned": s("warned"),
            "duplicates": s("duplicates"),
            "errors": s("errors"),
            "warnings": s("warnings"),
            "errors_by_code": dict(sorted(errors_by_code.items())),
            "warnings_by_code": dict(sorted(warnings_by_code.items())),
            "exit": want_code,
        }
        c.check(
            totals.get("errors_by_code", {}).get("auth") == 1 and totals.get("duplicates") == 1,
            f"{label}: the drain token reached drainpipe (1 auth error) and the HTTP retry is "
            "a duplicate",
            json.dumps(totals),
        )
        c.check(totals == want_totals, f"{label}: totals line",
                f"got  {json.dumps(totals)}\nwant {json.dumps(want_totals)}")
        saved = (out / "_totals.json").read_text().strip() if (out / "_totals.json").exists() else None
        c.check(saved == lines[0], f"{label}: _totals.json holds the totals line")

    # the drain token
    leaks = [str(p) for p in out.rglob("*") if p.is_file() and p.suffix != ".parquet"
             and any(t.encode() in p.read_bytes() for t in (TOKEN, WRONG_TOKEN))]
    c.check(not leaks, f"{label}: no drain token in any side output", "\n".join(leaks))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--drainpipe", required=True, help="the drainpipe binary to test with")
    ap.add_argument(
        "--python-for-spark",
        default=sys.executable,
        help="a Python with PySpark (scale/spark/setup.sh makes one); default this one",
    )
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()
    drainpipe = str(Path(args.drainpipe).resolve())
    if not GEN_DRAIN.exists():
        print(f"test_job.py: {GEN_DRAIN} not found (it lives in ../shared/bench)", file=sys.stderr)
        return 1
    spark_home = subprocess.run(
        [args.python_for_spark, "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"],
        capture_output=True, text=True,
    )
    if spark_home.returncode != 0:
        print(f"test_job.py: {args.python_for_spark} has no pyspark (run scale/spark/setup.sh)",
              file=sys.stderr)
        return 1
    spark_submit = str(Path(spark_home.stdout.strip()) / "bin" / "spark-submit")

    root = Path(tempfile.mkdtemp(prefix="drainpipe-spark-test-"))
    c = Checks()
    t0 = time.monotonic()
    try:
        good, trunc = make_inputs(root)
        input_root = root / "in"
        env = dict(os.environ)
        env["DRAINPIPE_DRAIN_TOKEN"] = TOKEN
        env["PYSPARK_PYTHON"] = args.python_for_spark
        env["PYSPARK_DRIVER_PYTHON"] = args.python_for_spark
        env.pop("SPARK_HOME", None)  # use the venv's Spark, not some other installation
        refs = {p: Reference(drainpipe, p, root, env) for p in good + [trunc]}
        c.check(refs[trunc].exit_code == 2, "setup: drainpipe exits 2 on the truncated gzip")
        c.check(refs[input_root / "c" / "only-bad.drain"].exit_code == 1
                and not refs[input_root / "c" / "only-bad.drain"].records,
                "setup: only-bad.drain has only rejected frames (drainpipe exit 1)")

        # Run 1: everything, by path, files-from route, partitioned by date: exit 3.
        out1 = root / "out1"
        code1, stdout1, secs1 = run_job(
            [args.python_for_spark, str(JOB), "--master", "local[2]", "--input",
             str(input_root), "--output", str(out1), "--drainpipe", drainpipe,
             "--partition-by", "date", "--route", "files-from"],
            env, root / "run1.log")
        print(f"run 1 took {secs1:.1f} s")

        # Run 2: all but the truncated gzip (a glob), spark-submit --files, stdin route,
        # source_file column: exit 0.
        out2 = root / "out2"
        ship = root / "ship"
        ship.mkdir()
        shutil.copy(drainpipe, ship / "drainpipe-under-test")  # a name on no PATH
        code2, stdout2, secs2 = run_job(
            [spark_submit, "--master", "local[2]", "--files", str(ship / "drainpipe-under-test"),
             str(JOB), "--input", f"{input_root}/[a-e]", "--output", str(out2),
             "--drainpipe", "drainpipe-under-test", "--route", "stdin", "--source-file"],
            env, root / "run2.log")
        print(f"run 2 took {secs2:.1f} s")

        # Run 3: two --input, --format ndjson, partitioned by date, read back without Spark.
        out3 = root / "out3"
        code3, stdout3, secs3 = run_job(
            [args.python_for_spark, str(JOB), "--master", "local[2]", "--input",
             str(input_root / "d"), "--input", str(input_root / "e"), "--output", str(out3),
             "--drainpipe", drainpipe, "--format", "ndjson", "--partition-by", "date"],
            env, root / "run3.log")
        print(f"run 3 took {secs3:.1f} s")

        # Run 4: into an existing output without --mode overwrite: exit 2, nothing touched.
        before = sorted((p.relative_to(out2).as_posix(), p.stat().st_mtime_ns)
                        for p in out2.rglob("*"))
        code4, stdout4, _ = run_job(
            [args.python_for_spark, str(JOB), "--master", "local[1]", "--input",
             str(input_root / "d"), "--output", str(out2), "--drainpipe", drainpipe],
            env, root / "run4.log")
        after = sorted((p.relative_to(out2).as_posix(), p.stat().st_mtime_ns)
                       for p in out2.rglob("*"))
        c.check(code4 == 2 and stdout4 == "" and before == after,
                "run 4: an existing output is a usage error (exit 2) and is left alone",
                f"exit {code4}, stdout {stdout4!r}, changed: {before != after}")

        # Run 5: drainpipe crashes on one file (after converting another): exit 4, the
        # file named on stderr, no output left behind.
        crashing = root / "crashing-drainpipe"
        crashing.write_text(
            "#!/bin/sh\n"
            'case "$*" in *fractions2*) echo "simulated crash" >&2; exit 101;; esac\n'
            f'exec "{drainpipe}" "$@"\n'
        )
        crashing.chmod(0o755)
        out5 = root / "out5"
        code5, stdout5, _ = run_job(
            [args.python_for_spark, str(JOB), "--master", "local[1]", "--input",
             str(input_root / "d"), "--output", str(out5), "--drainpipe", str(crashing),
             "--route", "stdin"],
            env, root / "run5.log")
        log5 = (root / "run5.log").read_text(errors="replace")
        c.check(code5 == 4 and stdout5 == "" and not out5.exists()
                and "drainpipe exited with 101 on " in log5 and "fractions2.drain.gz" in log5,
                "run 5: drainpipe crashing is a job failure (exit 4) naming the file, and "
                "leaves no output", f"exit {code5}, stdout {stdout5!r}, output left: "
                f"{out5.exists()}\n{log5[-1500:]}")

        dumps = [(out, root / f"{name}.ndjson") for out, name in ((out1, "dump1"), (out2, "dump2"))
                 if (out / "_SUCCESS").exists()]
        read_tables(args.python_for_spark, dumps)
        for label, out, code, stdout, want_code, files, opts, log in (
            ("run 1", out1, code1, stdout1, 3, good + [trunc], dict(partitioned=True,
             source_file=False), "run1.log"),
            ("run 2", out2, code2, stdout2, 0, good, dict(partitioned=False, source_file=True),
             "run2.log"),
            ("run 3", out3, code3, stdout3, 0,
             [p for p in good if p.parent.name in ("d", "e")],
             dict(partitioned=True, source_file=False), "run3.log"),
        ):
            if not (out / "_SUCCESS").exists():
                c.check(False, f"{label} wrote a table", (root / log).read_text()[-3000:])
                continue
            table = (load_ndjson_table(out) if label == "run 3"
                     else load_dump(root / f"dump{label[-1]}.ndjson"))
            check_run(c, label, out, code, stdout, want_code, [refs[p] for p in files],
                      input_root, table, log=root / log, **opts)
    finally:
        if args.keep or c.failed:
            print(f"scratch kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"test_job.py: {time.monotonic() - t0:.0f} s")
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
