"""Driver of scripts/bench-factors.sh: runs the workloads, prints the table.

    python3 scripts/bench-factors-run.py HMS_FACTORS_BINARY WORKDIR
"""

import os
import random
import resource
import statistics
import subprocess
import sys
import time

REPEAT = int(os.environ.get("REPEAT", "3"))
GNU_TIMEOUT = float(os.environ.get("GNU_TIMEOUT", "30"))  # per hard number
hms, work = sys.argv[1], sys.argv[2]


def is_prime(n):
    """Miller-Rabin to the first 13 prime bases (exact below 3.3e24; the
    factorizations are checked against GNU factor anyway)."""
    if n < 2:
        return False
    bases = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41]
    for p in bases:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def prime(rng, bits):
    while True:
        n = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        if is_prime(n):
            return n


def prime_digits(rng, digits):
    while True:
        n = rng.randrange(10 ** (digits - 1), 10**digits) | 1
        if is_prime(n):
            return n


def write(name, numbers):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("\n".join(map(str, numbers)))
        f.write("\n")
    return path


def run(cmd, stdin_path, out=subprocess.DEVNULL):
    """Best wall time of REPEAT runs, and the CPU seconds of that run."""
    best = None
    for _ in range(REPEAT):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(stdin_path, "rb") as f:
            t0 = time.perf_counter()
            subprocess.run(cmd, stdin=f, stdout=out, check=True)
            wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if best is None or wall < best[0]:
            best = (wall, cpu)
    return best


def run_once(cmd, stdin_path, timeout=None):
    """Wall and CPU seconds of one run; wall is None when it timed out."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(stdin_path, "rb") as f:
        t0 = time.perf_counter()
        try:
            out = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, check=True, timeout=timeout).stdout
            wall = time.perf_counter() - t0
        except subprocess.TimeoutExpired:
            out, wall = None, None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def output(cmd, stdin_path):
    with open(stdin_path, "rb") as f:
        return subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, check=True).stdout


rows = []


def row(workload, hms_s, peer_name, peer_s, target, hms_cpu=None, peer_cpu=None, fmt="{:.3f} s"):
    ratio = hms_s / peer_s
    ok = ratio <= target
    h = fmt.format(hms_s) + ("" if hms_cpu is None else f" (cpu {hms_cpu:.2f})")
    p = fmt.format(peer_s) + ("" if peer_cpu is None else f" (cpu {peer_cpu:.2f})")
    rows.append((workload, h, f"{peer_name}: {p}", f"{ratio:.3g}x", f"<= {target:g}x", "yes" if ok else "NO"))
    print(f"   {workload}: hms {h}, {peer_name} {p}, ratio {ratio:.3g}", file=sys.stderr)


def versus_gnu(name, path, target, workers=None):
    cmd = [hms, "--format", "factor"] + ([] if workers is None else ["--workers", str(workers)])
    if output(cmd, path) != output(["factor"], path):
        sys.exit(f"bench-factors: {name}: hms-factors --format factor differs from GNU factor")
    h = run(cmd, path)
    g = run(["factor"], path)
    row(name, h[0], "GNU factor", g[0], target, h[1], g[1])


def hard_rows():
    rng = random.Random(20261201)
    one = [hms, "--format", "factor", "--workers", "1"]

    # Semiprimes of two 48-bit primes: GNU factor's rho needs about 2^24 steps.
    semi96 = write("semi96.txt", [prime(rng, 48) * prime(rng, 48) for _ in range(20)])
    h = run_once(one, semi96)
    g = run_once(["factor"], semi96)
    if h[2] != g[2]:
        sys.exit("bench-factors: 96-bit semiprimes: hms-factors differs from GNU factor")
    row("20 semiprimes of two 48-bit primes, --workers 1", h[0], "GNU factor", g[0], 0.01, h[1], g[1])

    # Semiprimes of two 64-bit primes, one process each: median and worst.
    nums = [prime(rng, 64) * prime(rng, 64) for _ in range(20)]
    times = []
    for i, n in enumerate(nums):
        wall, cpu, out = run_once(one, write(f"semi128-{i}.txt", [n]))
        p, q = map(int, out.split(b":")[1].split())
        if p * q != n or not (is_prime(p) and is_prime(q)):
            sys.exit(f"bench-factors: 128-bit semiprime {n}: wrong factors {out!r}")
        times.append((wall, cpu))
    walls = sorted(t[0] for t in times)
    med, worst = statistics.median(walls), walls[-1]
    g = run_once(["factor"], write("semi128-gnu.txt", nums[:1]), timeout=GNU_TIMEOUT * 10)
    gnu = "GNU factor (the first): " + (f"{g[0]:.1f} s" if g[0] else f"> {GNU_TIMEOUT * 10:.0f} s (stopped)")
    rows.append((
        "20 semiprimes of two 64-bit primes (128 bits), one process each, --workers 1",
        f"median {med:.3f} s, worst {worst:.3f} s (cpu: median {statistics.median(t[1] for t in times):.3f} s)",
        gnu, f"worst {worst:.2f} s", "worst < 1 s", "yes" if worst < 1 else "NO",
    ))
    print(f"   128-bit semiprimes: median {med:.3f} s, worst {worst:.3f} s; {gnu}", file=sys.stderr)

    # 40-60 digits, smallest factor 12-20 digits, the rest one prime.
    mixed = []
    for i, small in enumerate([12, 13, 14, 15, 16, 16, 17, 18, 19, 20]):
        total = 40 + 2 * i
        mixed.append(prime_digits(rng, small) * prime_digits(rng, total - small))
    hms_wall = hms_cpu = gnu_wall = gnu_cpu = 0.0
    stopped = 0
    for i, n in enumerate(mixed):
        path = write(f"mixed-{i}.txt", [n])
        h = run_once(one, path)
        g = run_once(["factor"], path, timeout=GNU_TIMEOUT)
        if g[0] is None:
            stopped += 1
            gnu_wall += GNU_TIMEOUT
        elif g[2] != h[2]:
            sys.exit(f"bench-factors: {n}: hms-factors differs from GNU factor")
        else:
            gnu_wall += g[0]
        hms_wall, hms_cpu, gnu_cpu = hms_wall + h[0], hms_cpu + h[1], gnu_cpu + g[1]
    name = "10 numbers of 40-58 digits, smallest factor 12-20 digits, --workers 1"
    if stopped:
        name += f" (GNU factor stopped after {GNU_TIMEOUT:.0f} s on {stopped}: its time is a lower bound)"
    row(name, hms_wall, "GNU factor", gnu_wall, 0.1, hms_cpu, gnu_cpu)


rng = random.Random(20261126)
rand64 = write("rand64.txt", [rng.getrandbits(64) for _ in range(100_000)])
r12 = write("r12.txt", range(10**12, 10**12 + 10**6 + 1))
r7 = write("r7.txt", range(10**7, 11 * 10**6 + 1))

print("== GNU factor, --format factor, same input (best of %d)" % REPEAT, file=sys.stderr)
versus_gnu("100,000 random 64-bit numbers, 2 workers", rand64, 0.5)
versus_gnu("100,000 random 64-bit numbers, --workers 1", rand64, 1.0, workers=1)
versus_gnu("10^12 … 10^12+10^6", r12, 0.7)
versus_gnu("10^7 … 1.1x10^7 (I/O bound)", r7, 1.0)

print("== hard numbers, --workers 1, GNU factor on the same numbers", file=sys.stderr)
hard_rows()

print("== PARI/GP divisors() on the same 100,000 numbers", file=sys.stderr)
gp_script = os.path.join(work, "divisors.gp")
with open(gp_script, "w") as f:
    f.write(
        'default(parisize, 200000000);\n'
        f'v = readvec("{rand64}");\n'
        "t = getabstime(); for(i = 1, #v, divisors(v[i])); print(getabstime() - t);\n"
        "quit;\n"
    )
gp_ms = None
for _ in range(REPEAT):
    out = subprocess.run(["gp", "-q", "-f", gp_script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True, text=True).stdout
    ms = int(out.strip().splitlines()[-1])
    gp_ms = ms if gp_ms is None else min(gp_ms, ms)
h = run([hms], rand64)
row("divisors (default output), 100,000 random 64-bit numbers", h[0], "PARI/GP divisors()", gp_ms / 1000, 1.0, h[1])

print("== the book's serial workload vs the book's Python algorithm", file=sys.stderr)
book = list(range(10_000_000, 10_001_000))
py_numbers = book[:3]
py = (
    "import sys, time\n"
    "def factors_of(n):\n"
    "    return [x for x in range(2, n // 2 + 1) if n % x == 0]\n"
    f"ns = {py_numbers!r}\n"
    "t = time.perf_counter()\n"
    "for n in ns: factors_of(n)\n"
    "print((time.perf_counter() - t) / len(ns))\n"
)
py_per = float(subprocess.run(["python3", "-c", py], stdout=subprocess.PIPE, check=True, text=True).stdout)
# hms: the 1000 numbers, 1000 passes in one process (so that process start
# is not what is measured), --workers 1 as the book's loop is serial.
passes = 1000
bookfile = write("book.txt", book * passes)
h = run([hms, "--workers", "1"], bookfile)
hms_per = h[0] / (len(book) * passes)
single = run([hms, "--workers", "1"], write("book1.txt", book))
print(f"   one pass of the 1000 numbers, process start included: {single[0] * 1000:.1f} ms", file=sys.stderr)
rows.append((
    "book's serial workload 10,000,000 … 10,000,999, per number",
    f"{hms_per * 1e6:.3f} µs",
    f"Python trial division (book): {py_per:.3f} s",
    f"{py_per / hms_per:,.0f}x faster",
    ">= 100,000x",
    "yes" if py_per / hms_per >= 100_000 else "NO",
))

print()
print("| workload | hms | peer | ratio (hms/peer) | target | pass |")
print("|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print(f"{os.cpu_count()} CPUs, best of {REPEAT} runs each; wall seconds (cpu = user+sys seconds).")
