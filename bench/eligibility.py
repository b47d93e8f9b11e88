"""Eligibility over HTTP: merchants' decisions per second, against a limit on one server.

    python -m bench.eligibility [--clients 16] [--seconds 15] [--repeat 3] [--workers 2]
                                [--database bench_open_sesame_eligibility]

Serves the app with gunicorn (``config/gunicorn.py``, production settings, sync workers)
on PostgreSQL, in a database of its own (``--database``, default
``bench_open_sesame_eligibility``, created and migrated like the test database on the
server DATABASE_URL names, default postgres://postgres@127.0.0.1:5432; never the
database it names; two benches sharing a server each name their own). PostgreSQL only.

1. Seeds, through the project's services, one hotel with an API key and N citizens
   (``--citizens``) with some credit history, a current score snapshot and a consent to
   the hotel; the hotel's default rules accept most of them and refuse the others.
2. Starts gunicorn on a free local port with ``bench.settings`` (the product's settings,
   plus the limit endpoint in the bench's URLs), waits for ``/healthz``, warms up.
3. Drives C concurrent clients (threads, each with its own http.client connection, kept
   alive as far as the server allows: sync workers close it after each answer, and the
   client reconnects) for a fixed time at:

   - eligibility: ``POST /api/v1/merchant/eligibility`` with a consent id, cycling over
     the consents: each request a real decision with its access-log row, committed;
   - limit: ``POST /bench/limit`` with the same bodies (``bench/limit.py``): the same API
     key authentication, then one transaction that reads one row and inserts one row,
     the least that any request which must durably record something can do.

   Phases interleave: ``--repeat K`` runs eligibility, limit, eligibility, limit...
4. Checks that every successful eligibility request left exactly one decision and one
   access-log row with its decision id, and every limit request its one row.

Each phase also shows the server's CPU per request (its gunicorn workers and database
sessions, read from /proc): on a machine shared with other work, that compares the two
endpoints more steadily than their rates do. Commits are durable (the server's
``synchronous_commit`` is left as it is, and shown).
Any answer other than 2xx is a failure: it is reported and the bench exits non-zero.
Prints each phase, the spread, and on its last line the medians (of the rates, of each
phase's percentiles, of the pairs' CPU ratios)::

    eligibility: X req/s, p50 A ms, p99 B ms; limit: Y req/s, p99 C ms; ratio X/Y; CPU ratio R

The target is a ratio X/Y of at least 0.8 and a p99 B under 150 ms. On a machine shared
with other work the rates and the tail swing from phase to phase (the limit's p99 C, in
the same phases, says how much of B is the machine's); the CPU ratio R (the limit's CPU
per request over the decision's) moves much less.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import logging
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

import django

# No broker: the seeding's recomputes run eagerly, in this process (an empty value also
# wins over a .env file). The server gets the same.
os.environ["CELERY_BROKER_URL"] = ""
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/open_sesame")
# One secret for the seeding process and the server (codes and fingerprints are keyed).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.funding import top_up_paid  # noqa: E402
from bench.limit import LIMIT_ACCESSOR_KIND, LIMIT_PURPOSE  # noqa: E402
from merchants import services as merchant_services  # noqa: E402
from merchants.models import ConsentScope  # noqa: E402
from merchants.perks import services as perks_services  # noqa: E402
from merchants.perks.models import Decision  # noqa: E402
from scoring import services as scoring_services  # noqa: E402
from scoring.facts import EventKinds  # noqa: E402
from scoring.models import AccessLogEntry, ScoreSnapshot  # noqa: E402
from wallet import services as wallet_services  # noqa: E402
from wallet.models import IdentityLevel  # noqa: E402

BENCH_DATABASE = "bench_open_sesame_eligibility"
PROJECT_DIR = Path(__file__).resolve().parent.parent
ELIGIBILITY_PATH = "/api/v1/merchant/eligibility"
LIMIT_PATH = "/bench/limit"
PERK = "deposit_waiver"
AMOUNT = 80_000  # 800.00: a night's deposit at a good hotel
SEED = 2026
# The server never throttles the bench. A per-second window keeps the throttle's history
# (one timestamp per request in the window, stored in the cache on every request) as
# short as production's 600/min keeps it; a per-minute one would grow to thousands.
THROTTLE_RATE = "1000000/s"
HEALTH_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 40.0
REQUEST_TIMEOUT_SECONDS = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CPU_SAMPLE_SECONDS = 0.25
TARGET_RATIO = 0.8
TARGET_P99_MS = 150.0


# --- Seeding ---------------------------------------------------------------------------


@dataclass
class Seeded:
    raw_key: str
    consent_ids: list[str]
    seconds: float


def _history(rng: random.Random) -> list[tuple[str, int]]:
    """A citizen's credit events as (kind, days ago): mostly reliable, a few are not."""
    risky = rng.random() < 0.2
    events = []
    for _ in range(rng.randint(0, 12)):
        draw = rng.random()
        if risky and draw < 0.25:
            kind = rng.choice((EventKinds.BILL_PAID_LATE, EventKinds.BILL_OVERDUE))
        elif risky and draw < 0.35:
            kind = rng.choice((EventKinds.NO_SHOW, EventKinds.CLAIM_UNPAID))
        elif draw < 0.75:
            kind = EventKinds.BILL_PAID_ON_TIME
        else:
            kind = EventKinds.BOOKING_COMPLETED
        events.append((kind, rng.randint(1, 330)))
    return events


def _seed(citizens: int) -> Seeded:
    """The hotel, its key and ``citizens`` consents, all through the project's services."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    hotel = perks_services.merchant_onboard(name="Bench Harbour Hotel", category="hotel")
    _, raw_key = merchant_services.api_key_create(merchant=hotel, name="bench")
    now = timezone.now()
    consent_ids = []
    for number in range(citizens):
        citizen = wallet_services.user_register(
            username=f"bench-{number:05d}",
            password=secrets.token_urlsafe(16),
            display_name=f"Bench Guest {number}",
        )
        level = rng.choices((0, 1, 2), weights=(10, 45, 45))[0]
        if level:
            wallet_services.user_identity_level_set(user=citizen, level=IdentityLevel(level))
        top_up_paid(citizen, rng.randint(10_000, 500_000))
        for index, (kind, days_ago) in enumerate(_history(rng)):
            with_amount = kind != EventKinds.BOOKING_COMPLETED and kind != EventKinds.NO_SHOW
            scoring_services.record_event(
                account=citizen,
                kind=kind,
                occurred_at=now - timedelta(days=days_ago, minutes=index),
                source=f"bench:{citizen.pk}:{index}",
                amount=rng.randint(2_000, 60_000) if with_amount else None,
                currency=settings.WALLET_CURRENCY if with_amount else "",
                subject=f"bench-subject:{citizen.pk}:{index}" if with_amount else "",
            )
        # Every guest has a current snapshot: a decision reads it, never computes it.
        scoring_services.score_current_ensure(account=citizen)
        _, code = merchant_services.authorization_code_create(
            citizen=citizen, scope=ConsentScope.DEPOSIT_WAIVER, merchant=hotel
        )
        consent = merchant_services.consent_redeem(merchant=hotel, code=code)
        consent_ids.append(str(consent.pk))
    return Seeded(raw_key, consent_ids, time.perf_counter() - started)


# --- The server ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    """The bench database's URL, for the server's environment."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


class Server:
    """gunicorn serving ``bench.settings``, as production serves ``config.settings``."""

    def __init__(self, *, workers: int, log_dir: Path) -> None:
        self.workers = workers
        self.port = _free_port()
        self.log_path = log_dir / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": _database_url(),
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on a local port: no redirect to https.
            "SECURE_SSL_REDIRECT": "0",
            "CELERY_BROKER_URL": "",
            "THROTTLE_MERCHANT_KEY_RATE": THROTTLE_RATE,
            # No real payment provider here: the sandbox, on purpose (it refuses to start
            # on it with DEBUG=0 otherwise).
            "PAYMENTS_SANDBOX": "1",
        }

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--config",
            str(PROJECT_DIR / "config" / "gunicorn.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
        ]
        with self.log_path.open("wb") as log:
            # A session of its own: the terminal's Ctrl-C reaches the bench, which stops
            # the server in order.
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_DIR,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited before it answered:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                probe = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    probe.request("GET", "/healthz")
                    if probe.getresponse().status == 200:
                        return
                finally:
                    probe.close()
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz in time:\n{self.log_tail()}")

    def stop(self) -> None:
        """TERM to the master (it stops its workers), then KILL to its group if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("gunicorn is not running")
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


# --- Load ------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    path: str
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    # CPU seconds the phase cost the server's processes: its web workers and database.
    workers_cpu: float = 0.0
    database_cpu: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def cpu_ms(self) -> float:
        """Server CPU per successful request (web workers and database), in ms."""
        return 1000 * (self.workers_cpu + self.database_cpu) / self.ok if self.ok else 0.0

    def line(self) -> str:
        failed = sum(self.failures.values())
        per_request = 1000 / self.ok if self.ok else 0.0
        return (
            f"{self.rate:.0f} req/s ({self.ok} in {self.seconds:.1f} s), "
            f"p50 {self.percentile(0.5):.1f} ms, p99 {self.percentile(0.99):.1f} ms, "
            f"max {max(self.latencies_ms, default=0.0):.1f} ms; server CPU "
            f"{self.cpu_ms():.1f} ms/req (workers {self.workers_cpu * per_request:.1f}, "
            f"database {self.database_cpu * per_request:.1f})"
            + (f"; {failed} FAILED" if failed else "")
        )


class CpuMeter:
    """CPU time of the server's processes, read from /proc: the gunicorn workers (the
    master's children) and the database sessions serving them (a PostgreSQL backend's
    title names its database). A machine shared with other work changes how fast a
    request goes much more than how much CPU it costs, so the two endpoints' costs
    compare well even on a noisy machine. Sampled a few times a second, so that a
    session that ends during a phase (the server reconnects after CONN_MAX_AGE) still
    counts up to its last sample."""

    def __init__(self, *, master: int, database: str) -> None:
        self.master = master
        self.title = f" {database} "

    def _sample(self) -> dict[int, tuple[str, float]]:
        """Each server process's pid: its kind and CPU seconds so far."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                # After the command, which may hold spaces: state, ppid, ... utime, stime.
                fields = stat[stat.rindex(")") + 2 :].split()
                cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
                if int(fields[1]) == self.master:
                    found[int(entry.name)] = ("workers", cpu)
                elif self.title in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found[int(entry.name)] = ("database", cpu)
        return found

    @contextmanager
    def measuring(self) -> Iterator[dict[str, float]]:
        """CPU seconds spent in the block, by kind (filled in when the block ends)."""
        spent = {"workers": 0.0, "database": 0.0}
        first = self._sample()
        last = dict(first)
        done = threading.Event()

        def watch() -> None:
            while not done.wait(CPU_SAMPLE_SECONDS):
                last.update(self._sample())

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            yield spent
        finally:
            done.set()
            watcher.join()
            last.update(self._sample())
            for pid, (kind, cpu) in last.items():
                spent[kind] += cpu - first.get(pid, (kind, 0.0))[1]


class Load:
    """C clients posting to one path for a fixed time, each on its own connection."""

    def __init__(self, *, port: int, raw_key: str, consent_ids: list[str], clients: int) -> None:
        self.port = port
        self.clients = clients
        self.headers = {
            "Authorization": f"Bearer {raw_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.bodies = [
            json.dumps({"consent_id": consent_id, "perk": PERK, "amount": AMOUNT}).encode()
            for consent_id in consent_ids
        ]
        self.cursor = 0  # where the next phase's clients start in the consents

    def run(self, name: str, path: str, seconds: float, meter: CpuMeter) -> Phase:
        latencies: list[list[float]] = [[] for _ in range(self.clients)]
        failures: list[Counter[str]] = [Counter() for _ in range(self.clients)]
        barrier = threading.Barrier(self.clients + 1)
        stop_at = [0.0]
        first = self.cursor

        def client(index: int) -> None:
            conn = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_SECONDS
            )
            position = first + index
            try:
                barrier.wait()
                while time.perf_counter() < stop_at[0]:
                    body = self.bodies[position % len(self.bodies)]
                    position += self.clients
                    started = time.perf_counter()
                    try:
                        conn.request("POST", path, body=body, headers=self.headers)
                        response = conn.getresponse()
                        answer = response.read()
                    except (OSError, http.client.HTTPException) as error:
                        failures[index][f"{type(error).__name__}: {error}"] += 1
                        conn.close()
                        continue
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    if 200 <= response.status < 300:
                        latencies[index].append(elapsed_ms)
                    else:
                        failures[index][f"{response.status} {answer[:200]!r}"] += 1
            finally:
                conn.close()

        threads = [
            threading.Thread(target=client, args=(index,), daemon=True)
            for index in range(self.clients)
        ]
        for thread in threads:
            thread.start()
        with meter.measuring() as cpu:
            stop_at[0] = time.perf_counter() + seconds
            started = time.perf_counter()
            try:
                barrier.wait()
                for thread in threads:
                    while thread.is_alive():  # a timed join lets Ctrl-C through
                        thread.join(timeout=0.5)
            except BaseException:
                stop_at[0] = 0.0  # the clients stop at their next request
                raise
            elapsed = time.perf_counter() - started
        phase = Phase(name=name, path=path, seconds=elapsed)
        phase.workers_cpu, phase.database_cpu = cpu["workers"], cpu["database"]
        for per_client in latencies:
            phase.latencies_ms.extend(per_client)
        for failed in failures:
            phase.failures.update(failed)
        self.cursor = (first + phase.ok + sum(phase.failures.values())) % len(self.bodies)
        return phase


# --- Checks ----------------------------------------------------------------------------


def _count(sql: str, params: dict[str, Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _rows_check(eligibility_ok: int, limit_ok: int) -> list[str]:
    """Problems, if the rows written do not match the successful requests one for one."""
    decisions = Decision.objects.count()
    eligible = Decision.objects.filter(eligible=True).count()
    decision_log = AccessLogEntry.objects.filter(decision_id__isnull=False).count()
    matched = AccessLogEntry.objects.filter(
        decision_id__in=Decision.objects.values("id"), accessor_kind="merchant"
    ).count()
    limit_rows = AccessLogEntry.objects.filter(
        accessor_kind=LIMIT_ACCESSOR_KIND, purpose_note=LIMIT_PURPOSE
    ).count()
    print(
        f"rows: {decisions} decisions ({eligible} eligible) and {decision_log} access-log "
        f"rows with a decision id ({matched} matching a decision) for {eligibility_ok} "
        f"successful eligibility requests; {limit_rows} limit rows for {limit_ok} limit "
        "requests"
    )
    problems = []
    if not decisions == decision_log == matched == eligibility_ok:
        problems.append("decisions and access-log rows do not match the eligibility requests")
    if limit_rows != limit_ok:
        problems.append("limit rows do not match the limit requests")
    return problems


def _durability() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay') ORDER BY name"
        )
        values = dict(cursor.fetchall())
    line = ", ".join(f"{name}={value}" for name, value in values.items())
    if values.get("synchronous_commit") == "off" or values.get("fsync") == "off":
        line += " (commits are NOT durable on this server: the figures flatter both)"
    return line


def _wait_no_other_sessions(timeout: float = 15.0) -> None:
    """The server's connections to the bench database are gone (it can be dropped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        others = _count(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        if not others:
            return
        time.sleep(0.2)


@contextmanager
def _bench_database(name: str = BENCH_DATABASE) -> Iterator[None]:
    # A database of its own, so a benchmark never touches the test suite's or the app's.
    settings.DATABASES["default"]["TEST"]["NAME"] = name
    # Django notes on stderr that it replaces an existing database: expected here.
    with contextlib.redirect_stderr(io.StringIO()):
        old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            _wait_no_other_sessions()
        connection.close()
        teardown_databases(old_config, verbosity=0)


# --- Main ------------------------------------------------------------------------------


def _spread(values: list[float], unit: str = "", digits: int = 0) -> str:
    return f"{min(values):.{digits}f}-{max(values):.{digits}f} {unit}".rstrip()


@dataclass
class Summary:
    """The medians of the measured phases (the last line) and their spread."""

    eligibility: list[Phase]
    limit: list[Phase]

    @property
    def rate(self) -> float:
        return statistics.median(phase.rate for phase in self.eligibility)

    @property
    def limit_rate(self) -> float:
        return statistics.median(phase.rate for phase in self.limit)

    @property
    def ratio(self) -> float:
        return self.rate / self.limit_rate if self.limit_rate else 0.0

    def percentile(self, q: float) -> float:
        return statistics.median(phase.percentile(q) for phase in self.eligibility)

    def spread(self) -> str:
        pairs = zip(self.eligibility, self.limit, strict=True)
        ratios = [one.rate / two.rate if two.rate else 0.0 for one, two in pairs]
        return (
            f"spread: eligibility {_spread([p.rate for p in self.eligibility], 'req/s')}, "
            f"p50 {_spread([p.percentile(0.5) for p in self.eligibility], 'ms', 1)}, "
            f"p99 {_spread([p.percentile(0.99) for p in self.eligibility], 'ms', 1)}; "
            f"limit {_spread([p.rate for p in self.limit], 'req/s')}, "
            f"p50 {_spread([p.percentile(0.5) for p in self.limit], 'ms', 1)}, "
            f"p99 {_spread([p.percentile(0.99) for p in self.limit], 'ms', 1)}; "
            f"ratio per pair {_spread(ratios, digits=2)}"
        )

    def cpu(self) -> str:
        one = statistics.median(phase.cpu_ms() for phase in self.eligibility)
        two = statistics.median(phase.cpu_ms() for phase in self.limit)
        pairs = zip(self.eligibility, self.limit, strict=True)
        ratios = [b.cpu_ms() / a.cpu_ms() if a.cpu_ms() else 0.0 for a, b in pairs]
        return (
            f"server CPU per request (medians): eligibility {one:.1f} ms, limit {two:.1f} ms; "
            f"CPU ratio limit/eligibility {statistics.median(ratios):.2f} "
            f"(per pair {_spread(ratios, digits=2)}): what the ratio tends to where the "
            "server's CPU is the bottleneck"
        )

    def target(self) -> str:
        met = self.ratio >= TARGET_RATIO and self.percentile(0.99) < TARGET_P99_MS
        return f"target (ratio at least {TARGET_RATIO}, p99 under {TARGET_P99_MS:.0f} ms): " + (
            "met" if met else "NOT met"
        )

    def cpu_ratio(self) -> float:
        pairs = zip(self.eligibility, self.limit, strict=True)
        return statistics.median(b.cpu_ms() / a.cpu_ms() if a.cpu_ms() else 0.0 for a, b in pairs)

    def limit_percentile(self, q: float) -> float:
        return statistics.median(phase.percentile(q) for phase in self.limit)

    def last_line(self) -> str:
        return (
            f"eligibility: {self.rate:.0f} req/s, p50 {self.percentile(0.5):.1f} ms, "
            f"p99 {self.percentile(0.99):.1f} ms; limit: {self.limit_rate:.0f} req/s, "
            f"p99 {self.limit_percentile(0.99):.1f} ms; ratio {self.ratio:.2f}; "
            f"CPU ratio {self.cpu_ratio():.2f}"
        )


def _terminate(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)  # unwinds: the server is stopped, the database dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (C)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument(
        "--repeat", type=int, default=3, help="interleaved eligibility/limit pairs (medians)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--citizens", type=int, default=300, help="guests with a consent")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of each endpoint before measuring"
    )
    parser.add_argument(
        "--database", default=BENCH_DATABASE, help="the bench's own database (dropped after)"
    )
    args = parser.parse_args()
    if min(args.clients, args.repeat, args.workers, args.citizens) < 1 or args.seconds <= 0:
        parser.error("--clients, --repeat, --workers, --citizens and --seconds must be positive")
    if connection.vendor != "postgresql":
        sys.exit(
            "bench.eligibility measures PostgreSQL; the configured database is "
            f"{connection.vendor}. Run it with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame"
        )
    signal.signal(signal.SIGTERM, _terminate)
    # The seeding's log lines (an event, a recompute, a consent each) are noise here.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("kombu").setLevel(logging.ERROR)  # no broker host: expected

    eligibility: list[Phase] = []
    limit: list[Phase] = []
    problems: list[str] = []
    with (
        _bench_database(args.database),
        tempfile.TemporaryDirectory(prefix="bench-eligibility-") as tmp,
    ):
        seeded = _seed(args.citizens)
        snapshots = ScoreSnapshot.objects.count()
        print(
            f"database: {args.database}; {_durability()}; seeded {args.citizens} guests "
            f"with consents ({snapshots} snapshots) in {seeded.seconds:.1f} s",
            flush=True,
        )
        server = Server(workers=args.workers, log_dir=Path(tmp))
        try:
            server.start()
            server.wait_healthy()
            print(
                f"server: gunicorn, {args.workers} sync workers on 127.0.0.1:{server.port}; "
                f"{args.clients} clients, {args.seconds:g} s a phase, {args.repeat} pairs",
                flush=True,
            )
            meter = CpuMeter(master=server.pid, database=args.database)
            load = Load(
                port=server.port,
                raw_key=seeded.raw_key,
                consent_ids=seeded.consent_ids,
                clients=args.clients,
            )
            warmups = [
                load.run("warm-up eligibility", ELIGIBILITY_PATH, args.warmup, meter),
                load.run("warm-up limit", LIMIT_PATH, args.warmup, meter),
            ]
            for phase in warmups:
                print(f"{phase.name}: {phase.line()}", flush=True)
            for number in range(1, args.repeat + 1):
                one = load.run(f"eligibility {number}", ELIGIBILITY_PATH, args.seconds, meter)
                print(f"{one.name}: {one.line()}", flush=True)
                two = load.run(f"limit {number}", LIMIT_PATH, args.seconds, meter)
                print(f"{two.name}: {two.line()}", flush=True)
                eligibility.append(one)
                limit.append(two)
        except Exception:
            print(f"gunicorn's log ends:\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            server.stop()
        phases = warmups + eligibility + limit
        problems += _rows_check(
            eligibility_ok=sum(phase.ok for phase in phases if phase.path == ELIGIBILITY_PATH),
            limit_ok=sum(phase.ok for phase in phases if phase.path == LIMIT_PATH),
        )

    failures: Counter[str] = Counter()
    for phase in phases:
        failures.update(phase.failures)
    for failure, count in failures.most_common(10):
        print(f"FAILED {count}x: {failure}")
    if failures:
        problems.append(f"{sum(failures.values())} requests failed")
    summary = Summary(eligibility, limit)
    print(summary.spread())
    print(summary.cpu())
    print(summary.target())
    print(summary.last_line(), flush=True)
    if problems:
        sys.exit("bench.eligibility: " + "; ".join(problems))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("bench.eligibility: interrupted (the server is stopped, its database dropped)")
