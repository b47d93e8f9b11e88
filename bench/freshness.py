"""Score freshness: how long after an event commits its account's snapshot shows it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame \\
        python -m bench.freshness [--rate 300] [--duration 60] [--broker-outage 20]

Uses a database of its own (``bench_open_sesame_freshness``, created and migrated like
the test database) and a broker of its own: a ``redis-server`` it starts on a free port
(and stops, for ``--broker-outage``). PostgreSQL only.

1. Creates ``--accounts`` accounts, each with its first snapshot.
2. Starts the production topology for scores: two Celery worker processes on the
   ``scoring`` queue and beat (its periodic relay every 5 s), against that broker.
3. Records a sustained stream of credit events (a bill paid on time, which always
   changes the score) through ``scoring.services.record_event`` from ``--processes``
   processes of ``--threads`` threads each (as web workers would), ``--rate`` events/s
   in all, over the accounts, a share of them on a few
   hot accounts (repeats, which the outbox coalesces). Each event commits its outbox row
   with it; the commit kicks the relay through the broker, and the workers' relay
   recomputes. With ``--broker-outage S`` the broker is killed for S seconds in the
   middle of the stream and started again: kicks and beat fail meanwhile, the outbox
   keeps every row.
4. Waits for the outbox to empty, then measures, for every event, the lag from its
   commit to the first snapshot of its account that counts it (the snapshot's moment,
   taken once the recompute holds the account's lock, just before it reads the events),
   and how many recomputes the outbox saved (1 - snapshots written / events).

Ends with one line (here in two)::

    freshness: R events/s for S s; lag p50 A ms, p99 B ms, max C ms;
    coalesced K%; reflected: true|false

``reflected`` is true when every account's latest snapshot counts all of its events.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import django


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Chosen once, by the bench's first process; its recording processes inherit it.
REDIS_PORT = int(os.environ.setdefault("BENCH_FRESHNESS_REDIS_PORT", str(_free_port())))
BROKER_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
os.environ["CELERY_BROKER_URL"] = BROKER_URL
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/open_sesame")
# One secret for this process and the workers.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.celery_app import app  # noqa: E402
from scoring import services as scoring_services  # noqa: E402
from scoring.facts import EventKinds  # noqa: E402
from scoring.models import RecomputeWanted, ScoreSnapshot, SnapshotTrigger  # noqa: E402
from wallet import services as wallet_services  # noqa: E402
from wallet.models import User  # noqa: E402

BENCH_DATABASE = "bench_open_sesame_freshness"
PROJECT_DIR = Path(__file__).resolve().parent.parent
REDIS_SERVER = shutil.which("redis-server") or "redis-server"
HOT_ACCOUNTS = 50
HOT_SHARE = 0.3  # of the events, on the hot accounts
DRAIN_TIMEOUT = 180.0


def _database_url() -> str:
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


class Redis:
    """The bench's own ``redis-server``."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=0.2).close()
                return
            time.sleep(0.05)
        sys.exit("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Celery:
    """Two worker processes on the ``scoring`` queue, and beat."""

    def __init__(self, *, workers: int, log_dir: Path) -> None:
        self.workers, self.log_dir = workers, log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": BROKER_URL,
        }

    def start(self) -> None:
        base = [sys.executable, "-m", "celery", "-A", "config.celery_app"]
        commands = [
            [
                *base,
                *("worker", "-Q", "scoring", "-c", "1", "--pool", "prefork", "-l", "WARNING"),
                *("-n", f"bench-freshness-{index}@%h", "--without-gossip", "--without-mingle"),
            ]
            for index in range(self.workers)
        ]
        # Beat as production runs it: the project's scheduler, whose defaults
        # (config/schedule.py, the relay every 5 s among them) it writes to the bench
        # database at its start.
        commands.append([*base, "beat", "-l", "WARNING"])
        for number, command in enumerate(commands):
            log = (self.log_dir / f"celery-{number}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    command,
                    cwd=PROJECT_DIR,
                    env=self.environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=1.0) or []) < self.workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                self.stop()
                sys.exit(f"the Celery workers did not start (logs in {self.log_dir})")
        print(f"celery: {self.workers} workers and beat on {BROKER_URL}", flush=True)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []


@contextmanager
def _bench_database() -> Iterator[None]:
    settings.DATABASES["default"]["TEST"]["NAME"] = BENCH_DATABASE
    with contextlib.redirect_stderr(io.StringIO()):
        old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        yield
    finally:
        connection.close()
        with contextlib.redirect_stderr(io.StringIO()):
            teardown_databases(old_config, verbosity=0)


def _accounts_create(count: int) -> list[int]:
    users = wallet_services.users_create_bulk(
        users=[User(username=f"fresh{number}", display_name="") for number in range(count)]
    )
    ids = sorted(user.pk for user in users)
    scoring_services.scores_recompute(
        first_id=ids[0], last_id=ids[-1], trigger=SnapshotTrigger.INITIAL
    )
    return ids


@dataclass
class Stream:
    """The events recorded: (account, commit moment as epoch seconds)."""

    committed: list[tuple[int, float]] = field(default_factory=list)
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _record(stream: Stream, accounts: list[int], *, rate: float, until: float, seed: int) -> None:
    """One thread's share of the stream, paced to ``rate`` events/s."""
    rng = random.Random(seed)
    hot = accounts[:HOT_ACCOUNTS]
    users = {pk: User(pk=pk) for pk in accounts}
    interval, next_at, number = 1.0 / rate, time.time(), 0
    try:
        while (now := time.time()) < until:
            if now < next_at:
                time.sleep(next_at - now)
            next_at += interval
            account = rng.choice(hot) if rng.random() < HOT_SHARE else rng.choice(accounts)
            number += 1
            try:
                scoring_services.record_event(
                    account=users[account],
                    kind=EventKinds.BILL_PAID_ON_TIME,
                    source=f"bench:{seed}:{number}",
                )
            except Exception as error:  # a bench counts failures and goes on
                with stream.lock:
                    stream.failed += 1
                print(f"record_event failed: {type(error).__name__}: {error}", flush=True)
                continue
            committed = time.time()
            with stream.lock:
                stream.committed.append((account, committed))
    finally:
        connection.close()


def _recorder(
    results: multiprocessing.Queue[tuple[list[tuple[int, float]], int]],
    ready: multiprocessing.Queue[int],
    window: Any,
    accounts: list[int],
    *,
    threads: int,
    rate: float,
    seed: int,
) -> None:
    """A recording process (the stream is spread over processes as over web workers):
    ``threads`` threads sharing ``rate``; sends back what they committed."""
    app.conf.task_always_eager = False
    for name in ("scoring", "celery", "kombu"):
        logging.getLogger(name).setLevel(logging.ERROR)
    stream = Stream()
    ready.put(os.getpid())
    while not window[0]:  # every recorder starts at once
        time.sleep(0.01)
    until = window[1]
    running = [
        threading.Thread(
            target=_record,
            args=(stream, accounts),
            kwargs={"rate": rate / threads, "until": until, "seed": seed + index},
        )
        for index in range(threads)
    ]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    results.put((stream.committed, stream.failed))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


@dataclass
class Result:
    rate: float
    seconds: float
    lags_ms: list[float]
    outage_lags_ms: list[float]
    # Of the events committed while the broker was down: from its return to the snapshot.
    after_back_ms: list[float]
    coalesced: float
    reflected: bool

    def line(self) -> str:
        return (
            f"freshness: {self.rate:.0f} events/s for {self.seconds:.0f} s; "
            f"lag p50 {_percentile(self.lags_ms, 0.5):.0f} ms, "
            f"p99 {_percentile(self.lags_ms, 0.99):.0f} ms, "
            f"max {max(self.lags_ms, default=0):.0f} ms; "
            f"coalesced {100 * self.coalesced:.0f}%; "
            f"reflected: {'true' if self.reflected else 'false'}"
        )


def _measure(stream: Stream, started: float, outage: tuple[float, float] | None) -> Result:
    """Lags from the snapshots written since ``started`` (epoch seconds)."""
    since = timezone.now() - timedelta(seconds=time.time() - started + 1)
    snapshots: dict[int, list[tuple[float, int]]] = defaultdict(list)
    rows = ScoreSnapshot.objects.filter(computed_at__gte=since, trigger=SnapshotTrigger.EVENT)
    written = 0
    for account_id, computed_at, features in rows.values_list(
        "account_id", "computed_at", "features"
    ).iterator():
        snapshots[account_id].append((computed_at.timestamp(), features["on_time_payments_12m"]))
        written += 1
    events: dict[int, list[float]] = defaultdict(list)
    for account_id, committed in stream.committed:
        events[account_id].append(committed)
    lags, outage_lags, after_back, reflected = [], [], [], True
    for account_id, commits in events.items():
        commits.sort()
        written_for = sorted(snapshots[account_id])
        for rank, committed in enumerate(commits, start=1):
            counting = [moment for moment, count in written_for if count >= rank]
            if not counting:
                reflected = False
                continue
            lag = max(0.0, counting[0] - committed) * 1000
            lags.append(lag)
            if outage and outage[0] <= committed <= outage[1]:
                outage_lags.append(lag)
                after_back.append(max(0.0, counting[0] - outage[1]) * 1000)
        latest = max(written_for, default=(0.0, 0))[1]
        reflected = reflected and latest == len(commits)
    count = len(stream.committed)
    seconds = max(committed for _, committed in stream.committed) - started if count else 0.0
    return Result(
        rate=count / seconds if seconds else 0.0,
        seconds=seconds,
        lags_ms=lags,
        outage_lags_ms=outage_lags,
        after_back_ms=after_back,
        coalesced=1 - written / count if count else 0.0,
        reflected=reflected,
    )


def _drain(deadline: float) -> bool:
    while time.monotonic() < deadline:
        if not RecomputeWanted.objects.exists():
            return True
        time.sleep(0.2)
    return False


def run(args: argparse.Namespace, redis: Redis, log_dir: Path) -> Result:
    accounts = _accounts_create(args.accounts)
    print(f"accounts: {len(accounts)}, {HOT_ACCOUNTS} of them hot", flush=True)
    celery = Celery(workers=args.workers, log_dir=log_dir)
    celery.start()
    try:
        stream = Stream()
        # Fresh processes (not forks of this one and its threads), on the bench database.
        os.environ["DATABASE_URL"] = _database_url()
        context = multiprocessing.get_context("spawn")
        results: multiprocessing.Queue[tuple[list[tuple[int, float]], int]] = context.Queue()
        ready: multiprocessing.Queue[int] = context.Queue()
        window = context.Array("d", 2)  # (start, end) of the stream, once all are ready
        recorders = [
            context.Process(
                target=_recorder,
                args=(results, ready, window, accounts),
                kwargs={
                    "threads": args.threads,
                    "rate": args.rate / args.processes,
                    "seed": index * 1000,
                },
            )
            for index in range(args.processes)
        ]
        for recorder in recorders:
            recorder.start()
        for _ in recorders:
            ready.get(timeout=120)
        started = time.time()
        window[1] = started + args.duration
        window[0] = started
        outage = None
        if args.broker_outage:
            time.sleep(max(0.0, (args.duration - args.broker_outage) / 2))
            redis.stop()
            down = time.time()
            print(f"broker: stopped for {args.broker_outage:.0f} s", flush=True)
            time.sleep(args.broker_outage)
            redis.start()
            outage = (down, time.time())
            print(
                f"broker: back; outbox holds {RecomputeWanted.objects.count()} accounts",
                flush=True,
            )
        for _ in recorders:
            committed, failed = results.get()
            stream.committed.extend(committed)
            stream.failed += failed
        for recorder in recorders:
            recorder.join()
        drained = _drain(time.monotonic() + DRAIN_TIMEOUT)
        result = _measure(stream, started, outage)
        result.reflected = result.reflected and drained and not stream.failed
        print(
            f"events: {len(stream.committed)} committed, {stream.failed} failed; "
            f"outbox drained: {drained}",
            flush=True,
        )
        if outage:
            lags = result.outage_lags_ms
            print(
                f"outage: {len(lags)} events committed while the broker was down; lag "
                f"p50 {_percentile(lags, 0.5):.0f} ms, p99 {_percentile(lags, 0.99):.0f} ms, "
                f"max {max(lags, default=0):.0f} ms; in the snapshot after the broker's "
                f"return: p50 {_percentile(result.after_back_ms, 0.5):.0f} ms, "
                f"max {max(result.after_back_ms, default=0):.0f} ms",
                flush=True,
            )
        return result
    finally:
        celery.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="events/s, in all")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the stream")
    parser.add_argument("--processes", type=int, default=2, help="recording processes")
    parser.add_argument("--threads", type=int, default=4, help="recording threads in each")
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument(
        "--broker-outage", type=float, default=0.0, help="seconds the broker is down, mid-run"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench.freshness needs PostgreSQL: set DATABASE_URL=postgres://...")
    app.conf.task_always_eager = False  # the test settings' eager mode: not here
    # A log line per event (and the kicks' warnings while the broker is down) is noise.
    for name in ("scoring", "celery", "kombu"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # Stopped from outside (SIGTERM), it still stops the broker and the workers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench.freshness: terminated"))
    redis = Redis()
    redis.start()
    try:
        with _bench_database(), tempfile.TemporaryDirectory(prefix="freshness-") as tmp:
            result = run(args, redis, Path(tmp))
            lags = result.lags_ms
            if lags:
                print(
                    f"lags: mean {statistics.fmean(lags):.0f} ms over {len(lags)} events",
                    flush=True,
                )
            print(result.line(), flush=True)
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
