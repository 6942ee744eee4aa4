#!/usr/bin/env python3
"""Convert Heroku log-drain captures to a Parquet table with drainpipe, on Spark.

Each Spark task runs the drainpipe binary on whole input files (a file is never split: frames
cross any byte boundary) and the executors' JVMs turn its NDJSON records into table rows with an
explicit schema. Nothing is inferred and nothing is dropped silently: every rejected frame and
every input's validation report is written next to the table, and the run ends with one line of
totals on stdout.

Run ``convert.py --help`` for the options, the output layout and the exit codes. The tests are
in ``test_job.py`` beside this file; ``README-section.md`` explains how to run it on a cluster.

The only Python dependency is PySpark (3.5).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import zlib
from typing import Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

# Exit codes of this job (documented in --help and README-section.md).
EXIT_OK = 0  # every input read; rejected frames, if any, are data (in _rejects/ and the totals)
EXIT_REJECTS = 1  # only with --fail-on-rejects: as 0, but some frames were rejected
EXIT_USAGE = 2  # bad option, no input matched, output already exists: nothing was written
EXIT_INPUT_FAILED = 3  # some input could not be read; everything else was written
EXIT_JOB_FAILED = 4  # Spark or drainpipe failed (or the side outputs could not be written)

# Columns of the table, in drainpipe's record order.
RECORD_FIELDS = (
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

# drainpipe writes timestamps as YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z: 19 characters, an optional
# fraction, Z. Keeping the first 26 characters (".ffffff" included) truncates to microseconds.
_TS_MICROS_LEN = 26

FORMATS = ("parquet", "ndjson")
INPUT_ROUTES = ("auto", "stdin", "files-from")
DRAINPIPE_FORMATS = ("octet", "syslog", "http", "cli")
_MAX_FRAME_RE = re.compile(r"^[0-9]+[KMG]?$")

# spark.sql.sources.binaryFile.maxLength: the stdin route reads a file into one byte array.
_BINARY_FILE_MAX = 2**31 - 1


class InputFile(NamedTuple):
    """One input file, as listed on the driver."""

    index: int  # position in the sorted listing
    uri: str  # Hadoop path string (file:/..., s3a://..., hdfs://...)
    name: str  # what reports call it: the local path for file:, else the URI
    rel: str  # path relative to the inputs' common directory: names its side outputs
    size: int  # bytes, as stored (compressed for gzip)


# --------------------------------------------------------------------------------------------
# Options


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _byte_size(text: str) -> int:
    m = re.fullmatch(r"([0-9]+)([KMG]?)(i?B)?", text.strip(), re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size (e.g. 128M): {text!r}")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
    value = int(m.group(1)) * scale
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1 byte")
    return value


def _max_frame(text: str) -> str:
    if not _MAX_FRAME_RE.match(text):
        raise argparse.ArgumentTypeError(
            f"not a drainpipe size (digits, optionally K, M or G): {text!r}"
        )
    return text


def _conf_pair(text: str) -> Tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


HELP_EPILOG = """\
output layout (OUTPUT is --output):
  OUTPUT/                        the table (Parquet, or NDJSON with --format ndjson); with
                                 --partition-by date, one date=YYYY-MM-DD directory per UTC
                                 event date, and date=__HIVE_DEFAULT_PARTITION__ for records
                                 whose timestamp is null (RFC 5424 "-")
  OUTPUT/_reports/REL.json       for EVERY input file: drainpipe's JSON validation report
                                 (as `drainpipe validate --report json` prints it)
  OUTPUT/_rejects/REL.rejects    for each input file with rejected frames: those frames,
                                 verbatim (drain tokens redacted), as `drainpipe convert
                                 --rejects` writes them; no file means nothing was rejected
  OUTPUT/_inputs.ndjson          one line per input file: its URI, size, drainpipe's exit
                                 code, records, rejects and where its report and rejects are
  OUTPUT/_totals.json            the totals line below
REL is the input's path relative to the deepest directory that holds every input. Spark
ignores _-prefixed paths, so these do not become table rows.

stdout: exactly one line, the run's totals as JSON: files, files_failed, files_with_errors,
input_bytes, frames, records, rejects, warned, duplicates, errors, warnings, errors_by_code,
warnings_by_code, exit. Everything else (Spark's log, progress, errors) goes to stderr.

exit codes:
  0  every input file was read; the table and side outputs are written. Rejected frames,
     empty files and files that are not captures are data, not failures: they are counted
     in the totals and listed in _reports/ and _rejects/
  1  only with --fail-on-rejects: as 0, but some frame was rejected or some file had errors
  2  usage error: bad option, no input file matched, OUTPUT exists without --mode overwrite,
     an input inside OUTPUT, drainpipe missing (or too old) where a first probe task ran;
     nothing was written
  3  some input file could not be read (drainpipe exit 2: unreadable, corrupt or truncated
     gzip); everything else was written. Of a failed file, the records read before the
     failure are kept, its report (from `drainpipe validate`) says why, and no rejects file
     is written (drainpipe writes none for an input it could not read); the totals count it
     in files_failed
  4  the job failed (a Spark error; drainpipe crashed, or is missing on some executor; the
     side outputs could not be written): what it had written of OUTPUT is deleted

examples:
  spark-submit --files /opt/drainpipe/bin/drainpipe scale/spark/convert.py \\
      --input 's3a://logs/heroku/2026-03/*/' --output s3a://lake/heroku_runtime \\
      --partition-by date
  python3 scale/spark/convert.py --master 'local[*]' --input captures/ --output /tmp/t \\
      --drainpipe target/release/drainpipe
  DRAINPIPE_DRAIN_TOKEN=d.xxxx spark-submit ... convert.py --from http --input posts/ ...
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also documents every option in --help)."""
    p = argparse.ArgumentParser(
        prog="convert.py",
        description=(
            "Convert Heroku log-drain captures (octet frames, syslog lines, `heroku logs` "
            "text, saved drain POSTs; plain or gzip) into a Heroku.Runtime table with "
            "drainpipe, on Spark. Each task converts whole files."
        ),
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    io = p.add_argument_group("input and output")
    io.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="PATH",
        help="a file, a directory (every file under it, recursively) or a glob, on any file "
        "system Spark reads (local, s3a://, hdfs://, ...); repeat for several. Every file "
        "found is converted, hidden or not: nothing is skipped silently",
    )
    io.add_argument("--output", required=True, metavar="PATH", help="the table's directory")
    io.add_argument(
        "--format",
        choices=FORMATS,
        default="parquet",
        help="table format (default parquet). ndjson writes Spark JSON lines with every key "
        "present and timestamps as YYYY-MM-DDTHH:MM:SS.ffffffZ",
    )
    io.add_argument(
        "--compression",
        default=None,
        metavar="CODEC",
        help="table compression (default: snappy for parquet, none for ndjson)",
    )
    io.add_argument(
        "--partition-by",
        choices=("none", "date"),
        default="none",
        help="date: add a `date` column (the UTC date of `timestamp`) and partition the "
        "table by it; records with a null timestamp go to date=__HIVE_DEFAULT_PARTITION__ "
        "(read back as a null date). Default none",
    )
    io.add_argument(
        "--source-file",
        action="store_true",
        help="add a `source_file` column: the input file each record came from (its local "
        "path, or its URI). Off by default, so rows compare exactly with drainpipe's records",
    )
    io.add_argument(
        "--mode",
        choices=("error", "overwrite"),
        default="error",
        help="when OUTPUT exists: error (default, exit 2) or overwrite it whole, side "
        "outputs included",
    )

    dp = p.add_argument_group("drainpipe")
    dp.add_argument(
        "--drainpipe",
        default="drainpipe",
        metavar="PATH",
        help="the drainpipe binary on the executors (default `drainpipe`). A bare name is "
        "looked up first among the files shipped with the job (spark-submit --files, or "
        "--conf spark.files=...), then on the executors' PATH; a path containing / is used "
        "as is and must exist on every executor (e.g. baked into the container image)",
    )
    dp.add_argument(
        "--from",
        dest="from_format",
        choices=DRAINPIPE_FORMATS,
        help="passed to drainpipe: read every input in this format instead of detecting it",
    )
    dp.add_argument(
        "--strict",
        action="store_true",
        help="passed to drainpipe: warnings (utf8, length-mismatch) become errors",
    )
    dp.add_argument(
        "--lenient-length",
        action="store_true",
        help="passed to drainpipe: recover frames whose LEN is wrong (warning length-mismatch)",
    )
    dp.add_argument(
        "--max-frame",
        type=_max_frame,
        metavar="BYTES",
        help="passed to drainpipe: largest accepted LEN (default 1M; K/M/G suffixes)",
    )
    dp.add_argument(
        "--drain-token-env",
        metavar="VAR",
        default="DRAINPIPE_DRAIN_TOKEN",
        help="HTTP captures: the environment variable (on the driver) that holds the drain "
        "token; when it is set and not empty, requests with another Logplex-Drain-Token are "
        "rejected (error auth). Default DRAINPIPE_DRAIN_TOKEN, as drainpipe itself. The token "
        "reaches drainpipe through its environment, never its command line",
    )
    dp.add_argument(
        "--drainpipe-threads",
        type=_positive_int,
        default=1,
        metavar="N",
        help="drainpipe --threads for each file (default 1: Spark already runs one task per "
        "core)",
    )

    sp = p.add_argument_group("spark")
    sp.add_argument(
        "--master",
        metavar="URL",
        help="Spark master (default: what spark-submit gives, local[*] when run directly)",
    )
    sp.add_argument(
        "--conf",
        action="append",
        default=[],
        type=_conf_pair,
        metavar="KEY=VALUE",
        help="extra Spark configuration, as spark-submit --conf (repeatable)",
    )
    sp.add_argument(
        "--route",
        choices=INPUT_ROUTES,
        default="auto",
        help="how a task gives a file to drainpipe. stdin: Spark reads the file through its "
        "file system (any scheme; a file must be under 2 GiB, and a task holds it in memory), "
        "the task saves it on the executor's local disk and drainpipe reads it as stdin. "
        "files-from: drainpipe opens the file itself (local paths only: the path must exist "
        "on every executor). auto (default): files-from when every input is local, else stdin",
    )
    sp.add_argument(
        "--task-bytes",
        type=_byte_size,
        default=128 << 20,
        metavar="SIZE",
        help="pack small files into tasks of up to SIZE input bytes (default 128M; bytes as "
        "stored, so compressed for gzip). A file is never split, and small inputs are spread "
        "over about 4 tasks per core so that every core gets work",
    )
    sp.add_argument(
        "--fail-on-rejects",
        action="store_true",
        help="exit 1 (instead of 0) when some frame was rejected or a file had errors",
    )
    sp.add_argument(
        "--log-level",
        default="WARN",
        choices=("ERROR", "WARN", "INFO", "DEBUG"),
        help="Spark's log level (default WARN)",
    )
    return p


_JVM = None  # set once Spark runs: under spark-submit, messages go to the JVM's stderr
_UNDER_SPARK_SUBMIT = "PYSPARK_GATEWAY_PORT" in os.environ


def log(message: str) -> None:
    """Print a message for the user on stderr.

    Under spark-submit, Spark runs this driver with its stderr merged into stdout (PythonRunner
    redirects both to the JVM's stdout), so once the JVM is reachable messages are printed on
    the JVM's own stderr instead: stdout then holds nothing but the totals line.
    """
    text = f"convert.py: {message}"
    if _UNDER_SPARK_SUBMIT and _JVM is not None:
        try:
            _JVM.System.err.println(text)
            _JVM.System.err.flush()
            return
        except Exception:  # noqa: BLE001 - the gateway is gone: fall back to Python's stderr
            pass
    print(text, file=sys.stderr, flush=True)


class UsageError(Exception):
    """A problem with what the user asked for: exit 2, nothing written."""


# --------------------------------------------------------------------------------------------
# Executor side: run drainpipe on one file


class FileResult(NamedTuple):
    """What one drainpipe run on one input file produced, besides its records."""

    exit_code: int
    records: int  # NDJSON lines handed to Spark
    report: bytes  # the JSON report (zlib-compressed on its way to the driver)
    rejects: bytes  # the rejected bytes (zlib-compressed on its way to the driver)
    stderr: str  # the end of drainpipe's stderr


def _resolve_drainpipe(spec: str) -> str:
    """Find the drainpipe binary on this executor (see --drainpipe)."""
    if "/" in spec:
        if os.path.isfile(spec) and os.access(spec, os.X_OK):
            return spec
        raise RuntimeError(
            f"drainpipe binary {spec!r} is missing or not executable on executor "
            f"{socket.gethostname()}"
        )
    try:
        from pyspark import SparkFiles

        shipped = SparkFiles.get(spec)
        if os.path.isfile(shipped):
            if not os.access(shipped, os.X_OK):
                os.chmod(shipped, 0o755)
            return shipped
    except Exception:  # noqa: BLE001 - no SparkFiles root outside a task; fall back to PATH
        pass
    found = shutil.which(spec)
    if found:
        return found
    raise RuntimeError(
        f"drainpipe binary {spec!r} not found on executor {socket.gethostname()}: it was not "
        f"shipped with the job (spark-submit --files) and is not on PATH "
        f"({os.environ.get('PATH', '')})"
    )


def _scratch_dir() -> str:
    """A private temporary directory on the executor's Spark local disk."""
    local = os.environ.get("SPARK_LOCAL_DIRS", "").split(",")[0] or None
    if local and not os.path.isdir(local):
        local = None
    return tempfile.mkdtemp(prefix="drainpipe-task-", dir=local)


def _tail(path: str, limit: int = 4000) -> str:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - limit))
        return f.read().decode("utf-8", "replace")


def _read_or_empty(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


# drainpipe's records reach Spark in blocks of whole NDJSON lines of about this size: Python
# then does nothing per record, and the JVM splits the lines and parses the JSON.
_BLOCK_BYTES = 1 << 20


def _check_block(block: bytes, name: str) -> None:
    """Refuse an empty line: Spark would read it as a row of nulls."""
    if not block or block.startswith(b"\n") or block.endswith(b"\n") or b"\n\n" in block:
        raise RuntimeError(f"drainpipe wrote an empty line for {name}")


def _check_fields(block: bytes, name: str) -> None:
    """Refuse records whose keys are not the table's columns, in order (a drainpipe whose
    records changed): Spark's JSON reader would drop unknown keys without a word."""
    first = block.split(b"\n", 1)[0]
    keys = list(json.loads(first))
    if keys != list(RECORD_FIELDS):
        raise RuntimeError(
            f"drainpipe's records for {name} have the fields {keys}, not {list(RECORD_FIELDS)}"
        )


def run_drainpipe(
    binary: str,
    options: Sequence[str],
    env: Dict[str, str],
    name: str,
    local_path: Optional[str],
    content: Optional[bytes],
    scratch: str,
):
    """Run ``drainpipe convert`` on one file; a generator of blocks of NDJSON record lines.

    Each block is whole lines joined by newlines, without the last newline. Exactly one of
    ``local_path`` (drainpipe opens it: the files-from route) and ``content`` (the file's
    bytes, given to drainpipe as stdin and reported as ``name``: the stdin route) is given.
    The bytes go through a file on the executor's local disk, not a pipe: drainpipe treats a
    pipe as a live stream, where a pause could end a `heroku logs` message early. One run
    writes the records (stdout), the rejected frames (--rejects) and the JSON report
    (--report-json); the generator's return value is a FileResult (uncompressed). Raises
    RuntimeError when drainpipe did not run properly (a crash, a usage error): that fails the
    task, and Spark retries it.
    """
    rejects_path = os.path.join(scratch, "rejects")
    report_path = os.path.join(scratch, "report.json")
    stderr_path = os.path.join(scratch, "stderr")
    stdin_path = os.path.join(scratch, "stdin")
    for path in (rejects_path, report_path, stdin_path):
        if os.path.exists(path):
            os.unlink(path)
    cmd = [binary, "convert", "--quiet", "--rejects", rejects_path, "--report-json", report_path]
    cmd += list(options)
    with open(stdin_path, "wb") as f:
        if local_path is not None:
            cmd += ["--files-from", "-", "--null"]
            f.write(os.fsencode(local_path) + b"\0")
        else:
            cmd += ["--stdin-name", name, "-"]
            f.write(content or b"")
    content = None  # on disk now: let the memory go
    records = 0
    with open(stderr_path, "wb") as err, open(stdin_path, "rb") as stdin:
        try:
            proc = subprocess.Popen(
                cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=err, env=env, bufsize=0
            )
        except OSError as e:
            raise RuntimeError(f"cannot run {binary} on {socket.gethostname()}: {e}") from e
        try:
            fd = proc.stdout.fileno()
            buf = bytearray()
            while True:
                chunk = os.read(fd, _BLOCK_BYTES)
                if not chunk:
                    break
                buf += chunk
                if len(buf) >= _BLOCK_BYTES:
                    cut = buf.rfind(b"\n")
                    if cut >= 0:
                        block = bytes(buf[:cut])
                        del buf[: cut + 1]
                        _check_block(block, name)
                        if not records:
                            _check_fields(block, name)
                        records += block.count(b"\n") + 1
                        yield block
            if buf:
                if not buf.endswith(b"\n"):
                    raise RuntimeError(
                        f"drainpipe's output for {name} does not end with a newline"
                    )
                block = bytes(buf[:-1])
                _check_block(block, name)
                if not records:
                    _check_fields(block, name)
                records += block.count(b"\n") + 1
                yield block
        except BaseException:
            proc.kill()
            raise
        finally:
            proc.stdout.close()
            code = proc.wait()
    stderr = _tail(stderr_path)
    if code not in (0, 1, 2):
        raise RuntimeError(
            f"drainpipe exited with {code} on {name} (executor {socket.gethostname()}): {stderr}"
        )
    report = _read_or_empty(report_path)
    rejects = _read_or_empty(rejects_path)
    if code == 2 and not report:
        # drainpipe writes neither --report-json nor --rejects when its input could not be
        # read. The report is what tells why, so ask `drainpipe validate` for it (it prints
        # the report whatever happened); the rejects of a file that failed stay unwritten,
        # as with `drainpipe convert --rejects`.
        report = _validate_report(binary, options, env, name, local_path, stdin_path, scratch)
        try:
            failed = any(i.get("failure") for i in json.loads(report)["inputs"])
        except (ValueError, KeyError, TypeError):
            failed = False
        if not failed:
            raise RuntimeError(
                f"drainpipe exited with 2 on {name} (executor {socket.gethostname()}) but "
                f"reports no input failure (a usage error? this job needs drainpipe with "
                f"--report-json, --stdin-name and --files-from): {stderr}"
            )
    if not report:
        raise RuntimeError(f"drainpipe wrote no report for {name}: {stderr}")
    os.unlink(stdin_path)
    return FileResult(code, records, report, rejects, stderr)


def _validate_report(
    binary: str,
    options: Sequence[str],
    env: Dict[str, str],
    name: str,
    local_path: Optional[str],
    stdin_path: str,
    scratch: str,
) -> bytes:
    """``drainpipe validate --report json`` on the same input, with the same options."""
    cmd = [binary, "validate", "--quiet", "--report", "json"] + list(options)
    if local_path is not None:
        cmd += ["--files-from", "-", "--null"]
    else:
        cmd += ["--stdin-name", name, "-"]
    err_path = os.path.join(scratch, "validate.stderr")
    with open(stdin_path, "rb") as stdin, open(err_path, "wb") as err:
        proc = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=err, env=env)
    if proc.returncode not in (0, 1, 2):
        raise RuntimeError(
            f"drainpipe validate exited with {proc.returncode} on {name}: {_tail(err_path)}"
        )
    return proc.stdout


def _subprocess_env(token: Optional[str]) -> Dict[str, str]:
    """drainpipe's environment: the executor's, with the drain token set or removed."""
    env = dict(os.environ)
    env.pop("DRAINPIPE_DRAIN_TOKEN", None)
    if token:
        env["DRAINPIPE_DRAIN_TOKEN"] = token
    env["NO_COLOR"] = "1"
    return env


def make_task(
    files: List[InputFile],
    drainpipe: str,
    options: List[str],
    token: Optional[str],
    add_source_file: bool,
    results,
):
    """Build the function each Spark task runs over its partition.

    Its input is ``(index, content)`` pairs: ``content`` is None on the files-from route
    (drainpipe opens the local path) and the file's bytes on the stdin route (Spark read them).
    It yields ``(block,)`` rows (``(block, source_file)`` with ``add_source_file``), a block
    being NDJSON record lines, and adds each file's FileResult (report and rejects
    zlib-compressed, as they travel to the driver) to the ``results`` accumulator.
    """
    by_index = {f.index: f for f in files}

    def task(pairs: Iterable[Tuple[int, Optional[bytes]]]) -> Iterator[tuple]:
        binary = _resolve_drainpipe(drainpipe)
        env = _subprocess_env(token)
        scratch = _scratch_dir()
        try:
            for index, content in pairs:
                f = by_index[index]
                local = f.name if content is None else None
                run = run_drainpipe(binary, options, env, f.name, local, content, scratch)
                content = None  # on disk now; let the memory go
                while True:
                    try:
                        block = next(run)
                    except StopIteration as stop:
                        r: FileResult = stop.value
                        break
                    yield (block, f.name) if add_source_file else (block,)
                results.add(
                    {
                        index: r._replace(
                            report=zlib.compress(r.report), rejects=zlib.compress(r.rejects)
                        )
                    }
                )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return task


# --------------------------------------------------------------------------------------------
# Driver side


def _hadoop(spark):
    """(jvm, hadoop configuration)."""
    return spark._jvm, spark._jsc.hadoopConfiguration()


def _display_name(uri: str) -> str:
    """The name reports use for a file: its local path for file: URIs, else the URI."""
    if uri.startswith("file:"):
        path = uri[len("file:") :]
        # file:/a/b or file:///a/b
        if path.startswith("//"):
            path = path[2:]
            path = path[path.index("/") :] if "/" in path else "/"
        return path
    return uri


def _common_dir(uris: Sequence[str]) -> str:
    """The deepest directory (as a URI prefix ending before a /) that holds every URI."""
    parents = [u.rsplit("/", 1)[0] for u in uris]
    common = parents[0]
    for parent in parents[1:]:
        while not (parent == common or parent.startswith(common + "/")):
            if "/" not in common:
                return ""
            common = common.rsplit("/", 1)[0]
    return common


def list_inputs(spark, patterns: Sequence[str]) -> List[InputFile]:
    """Every file under the --input paths, sorted by URI, listed through Hadoop's FileSystem.

    Directories are walked recursively, globs expanded; a pattern that matches nothing is a
    UsageError. Files listed twice (through two patterns) are kept once.
    """
    jvm, conf = _hadoop(spark)
    Path = jvm.org.apache.hadoop.fs.Path
    found: Dict[str, int] = {}
    for pattern in patterns:
        path = Path(pattern)
        fs = path.getFileSystem(conf)
        statuses = fs.globStatus(path)
        if not statuses:
            raise UsageError(f"--input {pattern}: no such file or directory")
        matched = 0
        for status in statuses:
            if status.isDirectory():
                it = fs.listFiles(status.getPath(), True)
                while it.hasNext():
                    st = it.next()
                    found[st.getPath().toString()] = st.getLen()
                    matched += 1
            else:
                found[status.getPath().toString()] = status.getLen()
                matched += 1
        if matched == 0:
            raise UsageError(f"--input {pattern}: no files in it")
    uris = sorted(found)
    base = _common_dir(uris)
    files = []
    for i, uri in enumerate(uris):
        rel = uri[len(base) + 1 :] if base else re.sub(r"^([a-zA-Z0-9+.-]+):/*", r"\1/", uri)
        files.append(InputFile(i, uri, _display_name(uri), rel, found[uri]))
    return files


# Files are packed into tasks as Spark packs file splits (FilePartition.getFilePartitions),
# with Spark's default file-open cost, aiming at about this many tasks per core: with more
# tasks than cores, a core that finishes early takes the next task, so uneven files even out.
_OPEN_COST = 4 << 20
_TASKS_PER_CORE = 4


def plan_tasks(files: Sequence[InputFile], task_bytes: int, parallelism: int) -> List[List[int]]:
    """Pack files into tasks the way Spark's file sources do (so both routes get the same
    tasks): largest first, next fit, a task closed before it would pass
    ``min(task_bytes, max(open cost, total / (4 * parallelism)))``, each file counting its
    size plus Spark's 4 MiB open cost. A file is never split.
    """
    total = sum(f.size + _OPEN_COST for f in files)
    limit = min(task_bytes, max(_OPEN_COST, total // max(1, _TASKS_PER_CORE * parallelism)))
    tasks: List[List[int]] = []
    current: List[int] = []
    size = 0
    for f in sorted(files, key=lambda f: -f.size):  # stable: ties keep listing order
        if current and size + f.size > limit:
            tasks.append(current)
            current, size = [], 0
        current.append(f.index)
        size += f.size + _OPEN_COST
    if current:
        tasks.append(current)
    return tasks


def _glob_escape(uri: str) -> str:
    """Escape Hadoop glob characters so that Spark reads the path literally."""
    return re.sub(r"([\\*?\[\]{}])", r"\\\1", uri)


def drainpipe_options(args) -> List[str]:
    """The drainpipe convert options that the user's flags pass through."""
    opts = ["--threads", str(args.drainpipe_threads)]
    if args.from_format:
        opts += ["--from", args.from_format]
    if args.strict:
        opts.append("--strict")
    if args.lenient_length:
        opts.append("--lenient-length")
    if args.max_frame:
        opts += ["--max-frame", args.max_frame]
    return opts


def json_schema():
    """drainpipe's NDJSON records as Spark reads them: timestamp still a string."""
    from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

    fields = [
        StructField("message_len", LongType()),
        StructField("priority", IntegerType()),
    ]
    fields += [StructField(name, StringType()) for name in RECORD_FIELDS[2:]]
    return StructType(fields)


def block_schema(source_file: bool):
    """The rows the tasks yield: a block of NDJSON lines (and the file it came from)."""
    from pyspark.sql.types import BinaryType, StringType, StructField, StructType

    fields = [StructField("block", BinaryType(), False)]
    if source_file:
        fields.append(StructField("source_file", StringType(), False))
    return StructType(fields)


def records_of(blocks):
    """Split the blocks into lines and parse each as a record, in the JVM.

    The JSON reader fails the job on a line it cannot read (mode FAILFAST) rather than
    turning it into nulls.
    """
    from pyspark.sql import functions as F

    lines = blocks.select(
        F.explode(F.split(F.col("block").cast("string"), "\n")).alias("line"),
        *[c for c in blocks.columns if c != "block"],
    )
    parsed = F.from_json("line", json_schema(), {"mode": "FAILFAST"}).alias("record")
    others = [c for c in lines.columns if c != "line"]
    return lines.select(parsed, *others).select("record.*", *others)


def table_schema(partition_by_date: bool, source_file: bool):
    """The table's schema: drainpipe's record fields, typed, then the optional columns."""
    from pyspark.sql.types import (
        DateType,
        IntegerType,
        LongType,
        StringType,
        StructField,
        StructType,
        TimestampType,
    )

    fields = [
        StructField("message_len", LongType()),
        StructField("priority", IntegerType()),
        StructField("version", StringType()),
        StructField("timestamp", TimestampType()),
    ]
    fields += [StructField(name, StringType()) for name in RECORD_FIELDS[4:]]
    if source_file:
        fields.append(StructField("source_file", StringType()))
    if partition_by_date:
        fields.append(StructField("date", DateType()))
    return StructType(fields)


def to_table(raw, partition_by_date: bool, source_file: bool):
    """Type drainpipe's records: timestamp to a UTC Spark timestamp, truncated to microseconds.

    drainpipe's timestamps are ``YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z``; the fraction is cut (never
    rounded) to 6 digits before the cast. A non-null timestamp that does not convert fails
    the job rather than becoming null.
    """
    from pyspark.sql import functions as F

    ts_text = F.col("timestamp")
    cut = F.when(
        F.length(ts_text) > _TS_MICROS_LEN + 1,
        F.concat(F.substring(ts_text, 1, _TS_MICROS_LEN), F.lit("Z")),
    ).otherwise(ts_text)
    ts = cut.cast("timestamp")
    checked = F.when(
        ts_text.isNotNull() & ts.isNull(),
        F.raise_error(F.concat(F.lit("drainpipe timestamp Spark cannot read: "), ts_text)),
    ).otherwise(ts)
    cols = [F.col(name) for name in RECORD_FIELDS]
    cols[3] = checked.alias("timestamp")
    if source_file:
        cols.append(F.col("source_file"))
    df = raw.select(*cols)
    if partition_by_date:
        df = df.withColumn("date", F.to_date(F.col("timestamp")))
    return df


def _write_file(spark, uri: str, data: bytes) -> None:
    """Write bytes to a file on any Hadoop file system (overwriting it)."""
    jvm, conf = _hadoop(spark)
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(conf)
    fs.setWriteChecksum(False)  # no .crc files beside the side outputs
    out = fs.create(path, True)
    try:
        view = memoryview(data)
        for start in range(0, len(view), 8 << 20):
            out.write(bytearray(view[start : start + (8 << 20)]))
    finally:
        out.close()


def _spark_hides(uri: str) -> bool:
    """Whether Spark's file sources skip this file, even when named explicitly."""
    name = uri.rsplit("/", 1)[-1]
    return name.startswith((".", "_")) or name.endswith("._COPYING_")


def _read_file(spark, uri: str) -> bytes:
    """Read a whole file on the driver, through Hadoop's FileSystem."""
    jvm, conf = _hadoop(spark)
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(conf)
    size = fs.getFileStatus(path).getLen()
    if size > _BINARY_FILE_MAX:
        raise UsageError(f"{uri}: {size} bytes is too large to read through the driver")
    chunks = []
    stream = fs.open(path)
    try:
        left = size
        while left > 0:
            n = min(left, 8 << 20)
            chunks.append(bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(stream, n)))
            left -= n
    finally:
        stream.close()
    return b"".join(chunks)


def _qualified(spark, uri: str) -> str:
    """The URI as Hadoop lists it (scheme and authority added)."""
    jvm, conf = _hadoop(spark)
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(conf).makeQualified(path).toString().rstrip("/")


def preflight(sc, drainpipe: str) -> None:
    """Check, in one small task on an executor, that drainpipe is there and new enough.

    Raises UsageError naming the executor: better than every task failing the same way.
    """

    def probe(_):
        try:
            binary = _resolve_drainpipe(drainpipe)
        except RuntimeError as e:
            return [(False, str(e))]
        proc = subprocess.run([binary, "convert", "--help"], capture_output=True, text=True)
        missing = [
            flag
            for flag in ("--report-json", "--stdin-name", "--files-from", "--null")
            if flag not in proc.stdout
        ]
        if proc.returncode != 0 or missing:
            return [
                (
                    False,
                    f"{binary} on executor {socket.gethostname()} is not a drainpipe with "
                    f"{', '.join(missing) or 'convert'} (exit {proc.returncode}): update it",
                )
            ]
        return [(True, binary)]

    ok, message = sc.parallelize([0], 1).mapPartitions(probe).collect()[0]
    if not ok:
        raise UsageError(message)


def _delete(spark, uri: str) -> None:
    """Delete a directory tree, quietly (used on the way out of a failed run)."""
    try:
        jvm, conf = _hadoop(spark)
        path = jvm.org.apache.hadoop.fs.Path(uri)
        path.getFileSystem(conf).delete(path, True)
    except Exception:  # noqa: BLE001 - the original error matters more
        pass


def _exists(spark, uri: str) -> bool:
    jvm, conf = _hadoop(spark)
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return bool(path.getFileSystem(conf).exists(path))


def summarize(files: Sequence[InputFile], results: Dict[int, FileResult]) -> Dict[str, object]:
    """Add up the per-file reports into the totals line (without its exit code)."""
    totals: Dict[str, object] = {
        "files": len(files),
        "files_failed": 0,
        "files_with_errors": 0,
        "input_bytes": sum(f.size for f in files),
        "frames": 0,
        "records": 0,
        "rejects": 0,
        "warned": 0,
        "duplicates": 0,
        "errors": 0,
        "warnings": 0,
    }
    errors_by_code: Dict[str, int] = {}
    warnings_by_code: Dict[str, int] = {}
    for f in files:
        r = results[f.index]
        summary = json.loads(zlib.decompress(r.report))["summary"]
        if r.exit_code == 2:
            totals["files_failed"] += 1
        elif r.exit_code == 1:
            totals["files_with_errors"] += 1
        totals["frames"] += summary["frames"]
        totals["records"] += r.records
        totals["rejects"] += summary["invalid"]
        for key in ("warned", "duplicates", "errors", "warnings"):
            totals[key] += summary[key]
        for code, n in summary["errors_by_code"].items():
            errors_by_code[code] = errors_by_code.get(code, 0) + n
        for code, n in summary["warnings_by_code"].items():
            warnings_by_code[code] = warnings_by_code.get(code, 0) + n
    totals["errors_by_code"] = dict(sorted(errors_by_code.items()))
    totals["warnings_by_code"] = dict(sorted(warnings_by_code.items()))
    return totals


def write_side_outputs(spark, output: str, files: Sequence[InputFile], results) -> None:
    """Write _reports/, _rejects/ and _inputs.ndjson next to the table.

    The files are written from the driver through Hadoop's FileSystem, several at a time (an
    object store takes a round trip per file).
    """
    base = output.rstrip("/")
    index_lines = []
    writes = []
    for f in files:
        r = results[f.index]
        report = zlib.decompress(r.report)
        rejects = zlib.decompress(r.rejects)
        report_rel = f"_reports/{f.rel}.json"
        writes.append((f"{base}/{report_rel}", report))
        rejects_rel = None
        if rejects:
            rejects_rel = f"_rejects/{f.rel}.rejects"
            writes.append((f"{base}/{rejects_rel}", rejects))
        summary = json.loads(report)["summary"]
        index_lines.append(
            json.dumps(
                {
                    "file": f.name,
                    "uri": f.uri,
                    "bytes": f.size,
                    "exit": r.exit_code,
                    "frames": summary["frames"],
                    "records": r.records,
                    "rejects": summary["invalid"],
                    "errors": summary["errors"],
                    "warnings": summary["warnings"],
                    "report": report_rel,
                    "rejected_frames": rejects_rel,
                },
                ensure_ascii=False,
            )
        )
        if len(writes) >= 256:
            _write_files(spark, writes)
            writes = []
    writes.append((f"{base}/_inputs.ndjson", ("\n".join(index_lines) + "\n").encode()))
    _write_files(spark, writes)


def _write_files(spark, writes: Sequence[Tuple[str, bytes]]) -> None:
    """Write (uri, bytes) pairs, 8 at a time (Py4J gives each thread its own connection)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        for done in [pool.submit(_write_file, spark, uri, data) for uri, data in writes]:
            done.result()


def _dict_merge_param():
    from pyspark.accumulators import AccumulatorParam

    class DictMerge(AccumulatorParam):
        """Accumulate {file index: FileResult}. A re-run task (retry, speculation) produces
        the same entry again, so merging by key keeps each file exactly once."""

        def zero(self, value):
            return {}

        def addInPlace(self, a, b):
            a.update(b)
            return a

    return DictMerge()


def _spark_session(args):
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    conf = SparkConf()  # under spark-submit this holds its --master and --conf
    builder = SparkSession.builder.appName("drainpipe-convert")
    if args.master:
        builder = builder.master(args.master)
    elif not conf.contains("spark.master"):
        builder = builder.master("local[*]")
    if not conf.contains("spark.pyspark.python") and "PYSPARK_PYTHON" not in os.environ:
        # Run directly: the executors' Python is this one (it has PySpark).
        os.environ["PYSPARK_PYTHON"] = sys.executable
    settings = {
        "spark.sql.session.timeZone": "UTC",
        # Timestamps as INT64 microseconds, proleptic Gregorian as drainpipe's: no rebasing,
        # and no failure on years before 1582 (a frame may say 0001-01-01).
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
        "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
        "spark.sql.sources.partitionOverwriteMode": "static",
        "spark.sql.files.ignoreCorruptFiles": "false",
        "spark.sql.files.ignoreMissingFiles": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    for key, value in args.conf:
        builder = builder.config(key, value)
    return builder.getOrCreate()


def run(args) -> int:
    """Run the job; returns the exit code (and prints the totals line)."""
    token = os.environ.get(args.drain_token_env) or None
    global _JVM
    spark = _spark_session(args)
    _JVM = spark._jvm
    spark.sparkContext.setLogLevel(args.log_level)
    sc = spark.sparkContext
    output = args.output.rstrip("/") or args.output

    files = list_inputs(spark, args.input)
    if args.mode == "error" and _exists(spark, output):
        raise UsageError(f"--output {output} exists (use --mode overwrite to replace it)")
    route = args.route
    local = all(f.uri.startswith("file:") for f in files)
    if route == "auto":
        route = "files-from" if local else "stdin"
    if route == "files-from" and not local:
        raise UsageError("--route files-from needs local inputs (file:); use --route stdin")
    output_uri = _qualified(spark, output)
    inside = [f.name for f in files if f.uri.startswith(output_uri + "/")]
    if inside:
        raise UsageError(f"--input lists files inside --output {output}: {inside[0]}")
    preflight(sc, args.drainpipe)

    results = sc.accumulator({}, _dict_merge_param())
    task = make_task(
        files, args.drainpipe, drainpipe_options(args), token, args.source_file, results
    )
    big = [f for f in files if f.size > _BINARY_FILE_MAX]
    if route == "stdin" and big:
        raise UsageError(
            f"{big[0].name} is {big[0].size} bytes: the stdin route reads a file into memory "
            f"and Spark's limit is 2 GiB; use --route files-from or split the file"
        )
    if route == "files-from":
        tasks = plan_tasks(files, args.task_bytes, sc.defaultParallelism)
        pairs = sc.parallelize(tasks, len(tasks)).flatMap(lambda ids: [(i, None) for i in ids])
    else:
        # The same packing as plan_tasks, by Spark's file source.
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(args.task_bytes))
        spark.conf.set("spark.sql.files.openCostInBytes", str(_OPEN_COST))
        spark.conf.set("spark.sql.files.minPartitionNum", str(_TASKS_PER_CORE * sc.defaultParallelism))
        # Spark's file sources skip empty files and names that start with . or _ (and
        # *._COPYING_), which drainpipe converts like any other: the driver reads those.
        by_driver = [f for f in files if f.size == 0 or _spark_hides(f.uri)]
        by_spark = [f for f in files if not (f.size == 0 or _spark_hides(f.uri))]
        parts = []
        if by_spark:
            index_of = {f.uri: f.index for f in by_spark}
            blobs = spark.read.format("binaryFile").load([_glob_escape(f.uri) for f in by_spark])

            def with_index(rows):
                for row in rows:
                    yield index_of[row.path], row.content

            parts.append(blobs.select("path", "content").rdd.mapPartitions(with_index))
        if by_driver:
            if any(f.size for f in by_driver):
                log(
                    f"reading {sum(1 for f in by_driver if f.size)} files whose names Spark's "
                    f"file sources skip (. or _ first) through the driver"
                )
            contents = [(f.index, _read_file(spark, f.uri)) for f in by_driver]
            parts.append(sc.parallelize(contents, min(len(contents), sc.defaultParallelism)))
        pairs = parts[0] if len(parts) == 1 else sc.union(parts)
    blocks = spark.createDataFrame(pairs.mapPartitions(task), block_schema(args.source_file))
    table = to_table(records_of(blocks), args.partition_by == "date", args.source_file)
    writer = table.write.mode("overwrite" if args.mode == "overwrite" else "errorifexists")
    if args.partition_by == "date":
        writer = writer.partitionBy("date")
    if args.format == "parquet":
        writer.format("parquet").option("compression", args.compression or "snappy")
    else:
        writer.format("json").option("ignoreNullFields", "false").option(
            "timestampFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"
        ).option("compression", args.compression or "none")
    try:
        writer.save(output)
        done: Dict[int, FileResult] = results.value
        missing = [f.name for f in files if f.index not in done]
        if missing:
            raise RuntimeError(f"no result from drainpipe for {len(missing)} files: {missing[:5]}")
        write_side_outputs(spark, output, files, done)
    except BaseException:
        # Whatever was written is this run's (OUTPUT did not exist, or --mode overwrite had
        # Spark delete it): remove it, so that a failed run leaves no half table behind.
        _delete(spark, output)
        raise

    totals = summarize(files, done)
    for f in files:
        valid = json.loads(zlib.decompress(done[f.index].report))["summary"]["valid"]
        if done[f.index].records != valid:
            log(
                f"warning: {f.name}: drainpipe wrote {done[f.index].records} records but its "
                f"report counts {valid} valid frames"
            )
    if totals["files_failed"]:
        code = EXIT_INPUT_FAILED
        for f in files:
            if done[f.index].exit_code == 2:
                inputs = json.loads(zlib.decompress(done[f.index].report))["inputs"]
                reason = "; ".join(i["failure"] for i in inputs if i.get("failure"))
                log(f"could not read {f.name}: {reason} (its records before that are kept)")
    elif args.fail_on_rejects and (totals["rejects"] or totals["errors"]):
        code = EXIT_REJECTS
    else:
        code = EXIT_OK
    totals["exit"] = code
    line = json.dumps(totals)
    try:
        _write_file(spark, f"{output}/_totals.json", (line + "\n").encode())  # written last
    except BaseException:
        _delete(spark, output)
        raise
    print(line, flush=True)
    return code


def _short_error(e: BaseException) -> str:
    """The useful line of an error: a task's RuntimeError inside a Py4J error, if any."""
    text = str(e)
    for line in text.splitlines():
        if line.startswith("RuntimeError: "):
            return line[len("RuntimeError: ") :]
    for line in text.splitlines():
        if "Exception: " in line or "Error: " in line:
            return line.strip()
    return text.splitlines()[0] if text else type(e).__name__


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: parse the options, run the job, map failures to exit codes."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except UsageError as e:
        log(f"error: {e}")
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - Spark/Py4J errors: report and exit 4
        log(f"the job failed: {_short_error(e)}")
        if args.log_level in ("INFO", "DEBUG"):
            import traceback

            log(traceback.format_exc())
        return EXIT_JOB_FAILED


if __name__ == "__main__":
    sys.exit(main())
