#!/usr/bin/env python3
"""Binary-level stress run: mutates the sample captures (all formats), runs the real binary at
random block sizes and thread counts, and checks what the in-process fuzz targets cannot see:
the pipeline's batches. A finding is a panic or abort, a report that differs from the one at
the default block size, or a drain token in a report, on stderr or on a `Logplex-Drain-Token`
line of --rejects. Failing inputs are kept in the work directory.

    cargo build --release && python3 fuzz/stress.py [--seed N] [--runs N]
"""
import argparse
import glob
import os
import random
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "drainpipe")
TOKEN = "d.5ec4e7a0-1234-4abc-8def-0123456789ab"
INSERTS = [b"\n", b"\r\n", b"POST ", b"0\r\n\r\n", b"\x1b[1m", b"123 <1>",
           b"2026-01-01T00:00:00Z app: ", ("Logplex-Drain-Token: %s\r\n" % TOKEN).encode()]


def mutate(r, seeds):
    d = bytearray(r.choice(seeds))
    for _ in range(r.randint(1, 8)):
        op, i = r.random(), r.randrange(len(d) + 1)
        if op < 0.3 and d:
            del d[i:i + r.randint(1, 20)]
        elif op < 0.6:
            d[i:i] = bytes(r.randrange(256) for _ in range(r.randint(1, 10)))
        elif op < 0.8:
            d[i:i] = r.choice(INSERTS)
        else:
            j = r.randrange(len(d) + 1)
            d[i:i] = d[j:j + r.randint(1, 200)]
    return bytes(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--dir", default="/tmp/drainpipe-stress")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    files = glob.glob(os.path.join(ROOT, "testdata", "inputs", "*")) + [
        os.path.join(ROOT, "testdata", "sample.drain")]
    seeds = [open(f, "rb").read() for f in files if f.endswith((".http", ".txt", ".syslog", ".drain"))]
    r = random.Random(a.seed)
    inp, rej = os.path.join(a.dir, "in"), os.path.join(a.dir, "rejects")
    bad = 0
    for it in range(a.runs):
        data = mutate(r, seeds)
        with open(inp, "wb") as f:
            f.write(data)
        common = ["--drain-token", TOKEN]
        ref = subprocess.run([BIN, "validate", *common, inp], capture_output=True)
        for _ in range(4):
            opts = ["--block-size", str(r.randint(64, 600)), "--threads", str(r.randint(1, 3))]
            v = subprocess.run([BIN, "validate", *common, *opts, inp], capture_output=True)
            c = subprocess.run([BIN, *common, *opts, "--rejects", rej, inp], capture_output=True)
            rejected = open(rej, "rb").read() if os.path.exists(rej) else b""
            secret = TOKEN[2:10].encode()
            problem = None
            if v.returncode > 2 or c.returncode > 2 or b"panicked" in v.stderr + c.stderr:
                problem = "panic"
            elif v.stdout != ref.stdout:
                problem = "report differs from the default block size"
            elif secret in v.stdout or secret in c.stderr or any(
                    l.lower().startswith(b"logplex-drain-token:") and secret in l
                    for l in rejected.split(b"\n")):
                problem = "token shown"
            if problem:
                bad += 1
                keep = os.path.join(a.dir, f"bad-{a.seed}-{it}.in")
                with open(keep, "wb") as f:
                    f.write(data)
                print(f"{keep}: {problem} ({' '.join(opts)})", flush=True)
                break
    print(f"{a.runs} inputs, {bad} findings")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
