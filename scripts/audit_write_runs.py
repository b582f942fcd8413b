"""Running audited writers for scripts/bench_audit_writes.py: threads or forked processes, their
latencies and CPU per write (the writers' processes and PostgreSQL's backends), the sealing lag, and
the machine's floor (bare psycopg). Kept apart so the benchmark reads as what it compares."""
from __future__ import annotations

import os
import statistics
import threading
import time
from pathlib import Path


def backend_cpu(app) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend connected to the benchmark's database
    ({} when the server's processes cannot be read here)."""
    from sqlalchemy import text

    from portal.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        pids = conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
    ticks, cpu = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return cpu


class LagSampler:
    """Samples, every 50 ms, the age of the oldest event not sealed yet (0 when all are sealed)."""

    _OLDEST = ("SELECT extract(epoch FROM now() - min(at)) FROM audit_events WHERE seq IS NULL AND id > "
               "coalesce((SELECT id FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1), 0)")

    def __init__(self, app) -> None:
        self.app, self.ages, self.stop = app, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from sqlalchemy import text

        from portal.extensions import db

        with self.app.app_context(), db.engine.connect() as conn:
            while not self.stop.wait(0.05):
                self.ages.append(float(conn.scalar(text(self._OLDEST)) or 0.0) * 1000)
                conn.rollback()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def _figures(latencies: list[float], elapsed: float, client_cpu: float, before: dict, after: dict) -> dict:
    all_ms = sorted(x * 1000 for x in latencies)
    n = len(all_ms)
    server_cpu = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items()) if after else None
    return {"rate": n / elapsed, "p50": statistics.median(all_ms), "p95": all_ms[int(n * 0.95) - 1], "n": n,
            "client_us": client_cpu / n * 1e6, "server_us": server_cpu / n * 1e6 if server_cpu is not None else None}


def run_writers(app, record, writers: int, seconds: float, work: float) -> dict:
    from portal.extensions import db

    latencies: list[list[float]] = [[] for _ in range(writers)]
    start = threading.Barrier(writers + 1)
    stop_at = [0.0]

    def writer(n: int) -> None:
        with app.app_context():
            db.session.execute(db.text("SELECT 1"))  # connect before the clock starts
            db.session.commit()
            start.wait()
            i = 0
            while time.perf_counter() < stop_at[0]:
                began = time.perf_counter()
                record("bench_write", writer=n, number=i)
                if work:
                    time.sleep(work)
                db.session.commit()
                latencies[n].append(time.perf_counter() - began)
                i += 1
            db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + 0.3 + seconds
    time.sleep(0.2)  # the writers connect
    before, cpu0 = backend_cpu(app), time.process_time()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    # the process's CPU: writers and the sealing thread (and this thread's few statements)
    client = time.process_time() - cpu0
    return _figures([x for lat in latencies for x in lat], elapsed, client, before, backend_cpu(app))


def _process_writer(app, record, n: int, work: float, barrier, stop_at, out, release) -> None:
    from portal.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)  # the parent's connections stay the parent's
        db.session.execute(db.text("SELECT 1"))
        db.session.commit()
        barrier.wait()
        latencies, i, cpu0 = [], 0, time.process_time()
        while time.perf_counter() < stop_at.value:
            began = time.perf_counter()
            record("bench_write", writer=n, number=i)
            if work:
                time.sleep(work)
            db.session.commit()
            latencies.append(time.perf_counter() - began)
            i += 1
        db.session.remove()
    out.put((latencies, time.process_time() - cpu0))  # the sealing thread's CPU included
    release.wait(60)  # the connections stay until the parent has read their backends' CPU


def run_processes(app, record, writers: int, seconds: float, work: float) -> dict:
    """As run_writers, with each writer a forked process (as gunicorn workers are): no shared GIL."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    barrier, out, stop_at, release = ctx.Barrier(writers + 1), ctx.Queue(), ctx.Value("d", 0.0), ctx.Event()
    stop_at.value = time.perf_counter() + 3600
    procs = [ctx.Process(target=_process_writer, args=(app, record, n, work, barrier, stop_at, out, release))
             for n in range(writers)]
    for proc in procs:
        proc.start()
    time.sleep(0.3)  # the writers connect
    before = backend_cpu(app)
    barrier.wait()
    began = time.perf_counter()
    stop_at.value = began + seconds
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - began
    after = backend_cpu(app)
    release.set()
    for proc in procs:
        proc.join()
    return _figures([x for lat, _ in results for x in lat], elapsed, sum(cpu for _, cpu in results), before, after)


def _floor_writer(url: str, stop_at, out) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("SELECT 1")
        conn.commit()
        n, cpu0 = 0, time.thread_time()  # this thread's CPU (threads share one process)
        while time.perf_counter() < stop_at:
            conn.execute("INSERT INTO audit_events (at, kind, data, key_id) VALUES (now(), 'floor', '{}', 'floor')")
            conn.commit()
            n += 1
        out.put((n, time.thread_time() - cpu0))


def run_floor(url: str, writers: int, seconds: float, processes: bool) -> tuple[float, float]:
    """The machine's floor for comparison: bare psycopg, one durable INSERT + COMMIT per write, no
    Flask, no ORM, no audit (writes/s, client CPU µs per write)."""
    import multiprocessing
    import queue

    stop_at = time.perf_counter() + 0.3 + seconds
    if processes:
        ctx = multiprocessing.get_context("fork")
        out = ctx.Queue()
        workers = [ctx.Process(target=_floor_writer, args=(url, stop_at, out)) for _ in range(writers)]
    else:
        out = queue.Queue()
        workers = [threading.Thread(target=_floor_writer, args=(url, stop_at, out)) for _ in range(writers)]
    for worker in workers:
        worker.start()
    results = [out.get() for _ in workers]
    for worker in workers:
        worker.join()
    n = sum(count for count, _ in results)
    return n / seconds, sum(cpu for _, cpu in results) / n * 1e6
