#!/usr/bin/env python3
"""drainpipe's benchmark: per case, median wall time, MB/s of (uncompressed) input, CPU-seconds
per GB of input (user + system, from wait4), the ratio to a naive single-threaded converter
measured in the same run, and peak RSS.

    python3 bench/run.py                    # 512 MiB from gen-drain --seed 1, 5 runs each
    python3 bench/run.py --size 64M --runs 3

Input comes from ../shared/bench/gen-drain (deterministic); it is generated into /tmp once and
reused: one capture, the same capture gzipped, and a directory of 8 captures (seeds 1-8, an
eighth of --size each) plain and as gzip archives (`gzip -6`, as archives usually are). Output
goes to /dev/null. Peak RSS is the child's ru_maxrss from wait4. After the table come the
ratios the issues ask about: convert/validate CPU at one thread, CSV/NDJSON CPU, the gzip
directory's wall time over the plain one's, and the scaling from one thread to two.
"""
import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "..", "shared", "bench", "gen-drain")
BIN = os.path.join(ROOT, "target", "release", "drainpipe")
BASE = os.path.join(ROOT, "target", "release", "examples", "naive_baseline")
MEASURE = os.path.join(ROOT, "target", "release", "examples", "measure")


def run(cmd, stdin_path=None):
    """Runs cmd through examples/measure.rs (see there why not from here) with stdout to
    /dev/null; returns (seconds, CPU seconds, peak RSS in MiB, exit code). With stdin_path,
    the file is fed through a real pipe (`cat FILE |`), as a live user's input would be, not
    as a redirected regular file."""
    feeder = None
    stdin = subprocess.DEVNULL
    if stdin_path:
        feeder = subprocess.Popen(["cat", stdin_path], stdout=subprocess.PIPE)
        stdin = feeder.stdout
    out = subprocess.run([MEASURE] + cmd, stdin=stdin, stdout=subprocess.PIPE, check=True).stdout
    if feeder:
        feeder.stdout.close()
        feeder.wait()
    wall, cpu, rss, code = out.split()
    return float(wall), float(cpu), int(rss) / 1024, int(code)


def size_bytes(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="512M")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/drainpipe-bench")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "drainpipe", "--example",
                    "naive_baseline", "--example", "measure"], cwd=ROOT, check=True)
    os.makedirs(args.dir, exist_ok=True)
    cap = os.path.join(args.dir, f"cap-{args.size}-{args.seed}.drain")
    if not os.path.exists(cap):
        subprocess.run([sys.executable, GEN, "--size", args.size, "--seed", args.seed, "--out", cap],
                       check=True)
    gz = cap + ".gz"
    if not os.path.exists(gz):
        with open(cap, "rb") as f, gzip.open(gz, "wb", compresslevel=6) as g:
            shutil.copyfileobj(f, g, 1 << 20)
    size_mb = os.path.getsize(cap) / 1e6
    # The directory cases: 8 captures, plain and gzip.
    plain_dir = os.path.join(args.dir, f"dir-{args.size}-plain")
    gz_dir = os.path.join(args.dir, f"dir-{args.size}-gz")
    for d in (plain_dir, gz_dir):
        os.makedirs(d, exist_ok=True)
    part = size_bytes(args.size) // 8
    for i in range(1, 9):
        p = os.path.join(plain_dir, f"part-{i}.drain")
        if not os.path.exists(p):
            subprocess.run([sys.executable, GEN, "--size", str(part), "--seed", str(i), "--out", p],
                           check=True)
        g = os.path.join(gz_dir, f"part-{i}.drain.gz")
        if not os.path.exists(g):
            with open(p, "rb") as f, gzip.open(g, "wb", compresslevel=6) as out:
                shutil.copyfileobj(f, out, 1 << 20)
    dir_mb = sum(os.path.getsize(os.path.join(plain_dir, n)) for n in os.listdir(plain_dir)) / 1e6

    cases = [
        ("naive baseline (1 thread)", [BASE, cap], None, size_mb),
        ("validate --threads 1", [BIN, "validate", "--threads", "1", cap], None, size_mb),
        ("convert ndjson --threads 1", [BIN, "--threads", "1", cap], None, size_mb),
        ("convert csv --threads 1", [BIN, "--to", "csv", "--threads", "1", cap], None, size_mb),
        ("convert ndjson --threads 2", [BIN, "--threads", "2", cap], None, size_mb),
        ("convert csv --threads 2", [BIN, "--to", "csv", "--threads", "2", cap], None, size_mb),
        ("validate --threads 2", [BIN, "validate", "--threads", "2", cap], None, size_mb),
        ("convert ndjson, stdin pipe", [BIN, "--threads", "2"], cap, size_mb),
        ("convert ndjson, one gzip file", [BIN, "--threads", "2", gz], None, size_mb),
        ("convert ndjson, directory of 8 plain", [BIN, "--threads", "2", plain_dir], None, dir_mb),
        ("convert ndjson, directory of 8 gzip", [BIN, "--threads", "2", gz_dir], None, dir_mb),
    ]
    # Round-robin: each round runs every case once, so a noisy moment hits all cases alike.
    samples = {name: ([], [], []) for name, _, _, _ in cases}
    for _ in range(args.runs):
        for name, cmd, stdin, _ in cases:
            dt, cpu, peak, code = run(cmd, stdin)
            if code not in (0, 1):
                sys.exit(f"{name}: exit {code}")
            samples[name][0].append(dt)
            samples[name][1].append(cpu)
            samples[name][2].append(peak)
    med = {name: (statistics.median(t), statistics.median(c), max(r), min(t), max(t))
           for name, (t, c, r) in samples.items()}
    mb = {name: m for name, _, _, m in cases}

    base = med[cases[0][0]][0]
    print(f"input: {cap} ({size_mb:.0f} MB), {args.runs} runs each, medians, "
          f"{os.cpu_count()} cores\n")
    print("| case | median s | MB/s | CPU-s per GB | x baseline (wall) | min-max s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for name, (wall, cpu, peak, lo, hi) in med.items():
        print(f"| {name} | {wall:.2f} | {mb[name] / wall:.0f} | {cpu / mb[name] * 1000:.2f} | "
              f"{base / wall * mb[name] / size_mb:.1f} | {lo:.2f}-{hi:.2f} | {peak:.0f} |")

    def ratio(a, b, i):
        return med[a][i] / med[b][i]
    print()
    print(f"convert/validate CPU, --threads 1: "
          f"{ratio('convert ndjson --threads 1', 'validate --threads 1', 1):.2f}")
    print(f"csv/ndjson CPU, --threads 1: "
          f"{ratio('convert csv --threads 1', 'convert ndjson --threads 1', 1):.2f}")
    print(f"--threads 1 -> 2 wall speed-up: "
          f"{ratio('convert ndjson --threads 1', 'convert ndjson --threads 2', 0):.2f}")
    print(f"gzip directory / plain directory wall: "
          f"{ratio('convert ndjson, directory of 8 gzip', 'convert ndjson, directory of 8 plain', 0):.2f}")


if __name__ == "__main__":
    main()
