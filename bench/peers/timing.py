"""Shared timing helper for the benchmark peers (run from bench/peers/, which is on sys.path)."""
import time


def median_ms(fn, reps=5, warmup=1):
    """Median wall time of fn() in milliseconds over `reps` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1000)
    t.sort()
    return t[len(t) // 2]


def median_cpu_ms(fn, reps=5, warmup=1):
    """Median process CPU time (all threads: time.process_time) of fn() in milliseconds."""
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        t.append((time.process_time() - t0) * 1000)
    t.sort()
    return t[len(t) // 2]
