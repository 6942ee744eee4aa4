#!/usr/bin/env python3
"""Measure convert.py against plain drainpipe on the same gzip archives, in one session.

    python3 scale/spark/bench.py --drainpipe target/release/drainpipe \\
        --python-for-spark target/spark-venv/bin/python [--size 256M] [--parts 8] [--runs 3]

Generates ``gen-drain --size SIZE --seed 1`` (../shared/bench/gen-drain, relative to the
repository root), splits it at frame boundaries into PARTS archives and gzips them, then runs
each case RUNS times, round-robin (so that a busy moment of the shared machine hits every case
alike), and prints a Markdown table of median wall seconds and MB/s of uncompressed input.

Cases: plain ``drainpipe convert --threads 1|2`` to /dev/null; the Spark job in local[1] and
local[2], with each input route (files-from, stdin), writing Parquet; and the job on one tiny
file, which is Spark's fixed cost (JVM start, session, one task). Standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GEN_DRAIN = HERE.parent.parent.parent / "shared" / "bench" / "gen-drain"
JOB = HERE / "convert.py"


def split_frames(source: Path, parts: int, out_dir: Path) -> list:
    """Split an octet-framed capture into ``parts`` gzip files of about equal size, at frame
    boundaries (each frame is ``LEN SP`` and LEN bytes; gen-drain writes nothing between)."""
    data = source.read_bytes()
    target = len(data) // parts
    bounds = [0]
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        pos = space + 1 + int(data[pos:space])
        if pos - bounds[-1] >= target and len(bounds) < parts:
            bounds.append(pos)
    bounds.append(len(data))
    files = []
    for i in range(len(bounds) - 1):
        path = out_dir / f"part-{i:02d}.drain.gz"
        with gzip.open(path, "wb", compresslevel=6) as f:
            f.write(data[bounds[i] : bounds[i + 1]])
        files.append(path)
    return files


class CpuMeter:
    """CPU seconds used by a command and all its descendants (the JVM that PySpark starts is
    not waited for, so rusage misses it), through a cgroup of its own: cgroup v1 cpuacct or
    cgroup v2. On a shared machine that is steadier than wall time. Absent without root."""

    def __init__(self) -> None:
        self.path = None
        name = f"drainpipe-bench-{os.getpid()}"
        for base, usage in (("/sys/fs/cgroup/cpuacct", "cpuacct.usage"),
                            ("/sys/fs/cgroup", "cpu.stat")):
            if not os.path.exists(os.path.join(base, usage)) and base != "/sys/fs/cgroup":
                continue
            try:
                os.mkdir(os.path.join(base, name))
            except OSError:
                continue
            if os.path.exists(os.path.join(base, name, usage)):
                self.path, self.usage = os.path.join(base, name), usage
                break
            os.rmdir(os.path.join(base, name))

    def enter(self) -> None:
        """preexec_fn: move the child into the cgroup before it runs."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def seconds(self) -> float:
        with open(os.path.join(self.path, self.usage)) as f:
            text = f.read()
        if self.usage == "cpu.stat":
            return int(text.split("usage_usec")[1].split()[0]) / 1e6
        return int(text) / 1e9

    def close(self) -> None:
        if self.path:
            time.sleep(1)  # let the JVM finish exiting
            try:
                os.rmdir(self.path)
            except OSError:
                pass


def machine_cpu_seconds() -> float:
    """CPU seconds used by the whole machine so far (busy time of all cores, /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    busy = sum(fields[:3]) + fields[5] + fields[6]  # user nice system irq softirq
    return busy / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(limit_s: float) -> float:
    """On a shared machine, wait (up to limit_s) until other processes use under 0.4 of a
    core for 2 s, so that a case starts on a quiet machine. Returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        before = machine_cpu_seconds()
        time.sleep(2)
        if machine_cpu_seconds() - before < 0.8:
            break
    return time.monotonic() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--drainpipe", required=True)
    ap.add_argument("--python-for-spark", default=sys.executable)
    ap.add_argument("--size", default="256M")
    ap.add_argument("--parts", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/drainpipe-spark-bench")
    ap.add_argument("--cases", help="comma list of case names to run (default all)")
    ap.add_argument("--quiet-wait", type=float, default=0, metavar="SECONDS",
                    help="before each case, wait up to SECONDS for other processes to calm "
                    "down (a shared machine); the table still shows what they used")
    args = ap.parse_args()
    # On SIGTERM, stop like on Ctrl-C: subprocess.run then kills the running case (and the
    # JVM of a Spark case exits when its driver's pipe closes).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    drainpipe = str(Path(args.drainpipe).resolve())
    work = Path(args.workdir)
    inputs = work / f"in-{args.size}-{args.parts}"
    capture = work / f"cap-{args.size}.drain"
    if not inputs.is_dir():
        work.mkdir(parents=True, exist_ok=True)
        if not capture.exists():
            subprocess.run([sys.executable, str(GEN_DRAIN), "--size", args.size, "--seed", "1",
                            "--out", str(capture)], check=True)
        inputs.mkdir()
        split_frames(capture, args.parts, inputs)
    files = sorted(str(p) for p in inputs.iterdir())
    raw_bytes = capture.stat().st_size if capture.exists() else None
    if raw_bytes is None:
        raw_bytes = sum(len(gzip.open(f).read()) for f in files)
    tiny = work / "tiny"
    if not tiny.is_dir():
        tiny.mkdir()
        subprocess.run([sys.executable, str(GEN_DRAIN), "--frames", "100", "--seed", "1",
                        "--out", str(tiny / "tiny.drain")], check=True)

    out = work / "out"
    env = dict(os.environ, PYSPARK_PYTHON=args.python_for_spark)

    def job(master: str, route: str, source: Path) -> list:
        return [args.python_for_spark, str(JOB), "--master", master, "--input", str(source),
                "--output", str(out), "--mode", "overwrite", "--drainpipe", drainpipe,
                "--route", route]

    cases = {
        "drainpipe --threads 1": [drainpipe, "convert", "--quiet", "--threads", "1", *files],
        "drainpipe --threads 2": [drainpipe, "convert", "--quiet", "--threads", "2", *files],
        "job local[1] files-from": job("local[1]", "files-from", inputs),
        "job local[1] stdin": job("local[1]", "stdin", inputs),
        "job local[2] files-from": job("local[2]", "files-from", inputs),
        "job local[2] stdin": job("local[2]", "stdin", inputs),
        "job local[2] one tiny file (fixed cost)": job("local[2]", "files-from", tiny),
    }
    if args.cases:
        wanted = args.cases.split(",")
        cases = {k: v for k, v in cases.items() if any(w in k for w in wanted)}
    times = {name: [] for name in cases}
    cpu = {name: [] for name in cases}
    other = {name: [] for name in cases}
    meter = CpuMeter()
    try:
        for run in range(args.runs):
            for name, cmd in cases.items():
                shutil.rmtree(out, ignore_errors=True)
                if args.quiet_wait:
                    wait_for_quiet(args.quiet_wait)
                cpu0 = meter.seconds() if meter.path else 0.0
                machine0 = machine_cpu_seconds()
                start = time.monotonic()
                proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      env=env, preexec_fn=meter.enter if meter.path else None)
                secs = time.monotonic() - start
                if proc.returncode != 0:
                    print(f"{name}: exit {proc.returncode}\n{proc.stderr.decode()[-2000:]}",
                          file=sys.stderr)
                    return 1
                if meter.path:
                    time.sleep(0.5)  # the JVM exits after the driver
                    cpu[name].append(meter.seconds() - cpu0)
                    other[name].append(machine_cpu_seconds() - machine0 - cpu[name][-1])
                times[name].append(secs)
                print(f"run {run + 1}: {name}: {secs:.2f} s"
                      + (f", {cpu[name][-1]:.1f} CPU s (other processes: "
                         f"{other[name][-1]:.1f})" if meter.path else ""),
                      file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)
        meter.close()
    gz = sum(os.path.getsize(f) for f in files)
    print(f"input: gen-drain --size {args.size} --seed 1, {raw_bytes} bytes, split into "
          f"{len(files)} gzip archives ({gz} bytes); medians of {args.runs}, round-robin")
    print()
    print("| case | median wall s | MB/s of uncompressed input | median CPU s | wall s of each "
          "run | CPU s of other processes during each run |")
    print("|---|---|---|---|---|---|")
    for name, ts in times.items():
        med = statistics.median(ts)
        rate = "" if "tiny" in name else f"{raw_bytes / med / 1e6:.1f}"
        cpu_s = f"{statistics.median(cpu[name]):.1f}" if cpu[name] else "n/a"
        others = ", ".join(f"{o:.1f}" for o in other[name]) if other[name] else "n/a"
        print(f"| {name} | {med:.2f} | {rate} | {cpu_s} | {', '.join(f'{t:.2f}' for t in ts)} "
              f"| {others} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
