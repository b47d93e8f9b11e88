"""Ledger throughput: payments per second through the real service, on the configured DB.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame python -m bench.ledger

Creates a throw-away test database (``test_<name>``), then runs two scenarios in
interleaved rounds, each for a fixed time with N threads (own connections):

- independent: every thread pays from its own wallet to its own merchant (no shared
  row: the cost of one transfer — lock, insert transfer and entries, update balances,
  commit);
- one wallet: every thread pays from the same wallet (the row lock serialises them:
  the cost of contention).

Prints each round and, on its last line, the medians with their spread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from dataclasses import dataclass

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from bench.funding import top_up_paid  # noqa: E402
from wallet import services  # noqa: E402
from wallet.errors import InsufficientFunds  # noqa: E402
from wallet.models import LedgerAccount, User  # noqa: E402


@dataclass
class Result:
    ops: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _run(pairs: list[tuple[User, LedgerAccount]], seconds: float) -> Result:
    latencies: list[list[float]] = [[] for _ in pairs]
    barrier = threading.Barrier(len(pairs) + 1)
    stop_at = [0.0]

    def work(index: int, user: User, merchant: LedgerAccount) -> None:
        try:
            barrier.wait()
            while time.perf_counter() < stop_at[0]:
                started = time.perf_counter()
                try:
                    services.payment_create(user=user, destination=merchant, amount=1)
                except InsufficientFunds:
                    break
                latencies[index].append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(i, user, merchant))
        for i, (user, merchant) in enumerate(pairs)
    ]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = [latency for per_thread in latencies for latency in per_thread]
    return Result(ops=len(flat), seconds=elapsed, latencies_ms=flat)


def _citizen(name: str) -> User:
    user = services.user_register(username=name, password="bench-password-123")  # noqa: S106
    top_up_paid(user, 5_000_000)
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    # A database of its own, so a benchmark never touches the test suite's.
    settings.DATABASES["default"]["TEST"]["NAME"] = "bench_open_sesame"
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        print(f"database: {connection.vendor}, threads: {args.threads}, {args.seconds}s a run")
        independent, shared = [], []
        shared_user = _citizen("bench-shared")
        for round_no in range(1, args.rounds + 1):
            pairs = [
                (
                    _citizen(f"bench-{round_no}-{i}"),
                    services.settlement_account_open(code=f"bench-{round_no}-{i}", name="m"),
                )
                for i in range(args.threads)
            ]
            one = _run(pairs, args.seconds)
            merchants = [
                services.settlement_account_open(code=f"bench-s-{round_no}-{i}", name="m")
                for i in range(args.threads)
            ]
            two = _run([(shared_user, m) for m in merchants], args.seconds)
            independent.append(one)
            shared.append(two)
            print(
                f"round {round_no}: independent {one.rate:.0f} tx/s "
                f"(p50 {one.percentile(0.5):.1f} ms, p99 {one.percentile(0.99):.1f} ms); "
                f"one wallet {two.rate:.0f} tx/s "
                f"(p50 {two.percentile(0.5):.1f} ms, p99 {two.percentile(0.99):.1f} ms)"
            )
    finally:
        connection.close()
        teardown_databases(old_config, verbosity=0)

    def summary(results: list[Result]) -> str:
        rates = [r.rate for r in results]
        p99s = [r.percentile(0.99) for r in results]
        return (
            f"{statistics.median(rates):.0f} tx/s (range {min(rates):.0f}-{max(rates):.0f}), "
            f"p99 {statistics.median(p99s):.1f} ms"
        )

    print(f"ledger: independent {summary(independent)}; one wallet {summary(shared)}")


if __name__ == "__main__":
    main()
