#!/usr/bin/env python3
"""drainpipe's benchmark: throughput (MB/s of input, median of N runs), ratio to a naive
single-threaded converter measured in the same run, and peak RSS.

    python3 bench/run.py                    # 512 MiB from gen-drain --seed 1, 5 runs each
    python3 bench/run.py --size 64M --runs 3

Input comes from ../shared/bench/gen-drain (deterministic); it is generated into /tmp once and
reused. Output goes to /dev/null. Peak RSS is the child's ru_maxrss from wait4.
"""
import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "..", "shared", "bench", "gen-drain")
BIN = os.path.join(ROOT, "target", "release", "drainpipe")
BASE = os.path.join(ROOT, "target", "release", "examples", "naive_baseline")


def run(cmd, stdin_path=None):
    """Runs cmd with stdout to /dev/null; returns (seconds, peak RSS in MiB, exit code).
    With stdin_path, the file is fed through a real pipe (`cat FILE |`), as a live user's
    input would be, not as a redirected regular file."""
    with open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        feeder = None
        stdin = subprocess.DEVNULL
        if stdin_path:
            feeder = subprocess.Popen(["cat", stdin_path], stdout=subprocess.PIPE)
            stdin = feeder.stdout
        p = subprocess.Popen(cmd, stdin=stdin, stdout=null, stderr=subprocess.DEVNULL)
        if feeder:
            feeder.stdout.close()
        _, status, usage = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        if feeder:
            feeder.wait()
    return dt, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="512M")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/drainpipe-bench")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "drainpipe", "--example",
                    "naive_baseline"], cwd=ROOT, check=True)
    os.makedirs(args.dir, exist_ok=True)
    cap = os.path.join(args.dir, f"cap-{args.size}-{args.seed}.drain")
    if not os.path.exists(cap):
        subprocess.run([sys.executable, GEN, "--size", args.size, "--seed", args.seed, "--out", cap],
                       check=True)
    gz = cap + ".gz"
    if not os.path.exists(gz):
        with open(cap, "rb") as f, gzip.open(gz, "wb", compresslevel=1) as g:
            shutil.copyfileobj(f, g, 1 << 20)
    size_mb = os.path.getsize(cap) / 1e6

    cases = [
        ("naive baseline (1 thread)", [BASE, cap], None),
        ("convert ndjson --threads 1", [BIN, "--threads", "1", cap], None),
        ("convert ndjson --threads 2", [BIN, "--threads", "2", cap], None),
        ("convert csv --threads 2", [BIN, "--to", "csv", "--threads", "2", cap], None),
        ("validate --threads 2", [BIN, "validate", "--threads", "2", cap], None),
        ("convert ndjson, stdin pipe", [BIN, "--threads", "2"], cap),
        ("convert ndjson, gzip input", [BIN, "--threads", "2", gz], None),
    ]
    # Round-robin: each round runs every case once, so a noisy moment hits all cases alike.
    samples = {name: ([], []) for name, _, _ in cases}
    for _ in range(args.runs):
        for name, cmd, stdin in cases:
            dt, peak, code = run(cmd, stdin)
            if code not in (0, 1):
                sys.exit(f"{name}: exit {code}")
            samples[name][0].append(dt)
            samples[name][1].append(peak)
    results = {name: (statistics.median(t), max(r), min(t), max(t))
               for name, (t, r) in samples.items()}

    base = results[cases[0][0]][0]
    print(f"input: {cap} ({size_mb:.0f} MB), {args.runs} runs each, median wall time, "
          f"{os.cpu_count()} cores\n")
    print("| case | median s | MB/s | x baseline | min-max s | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for name, (med, peak, lo, hi) in results.items():
        print(f"| {name} | {med:.2f} | {size_mb / med:.0f} | {base / med:.1f} | "
              f"{lo:.2f}-{hi:.2f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
