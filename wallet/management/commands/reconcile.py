"""Run the reconciliation now and print its report; exit status 1 on any difference."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wallet.payments.reconciliation import reconcile, report_lines


class Command(BaseCommand):
    help = (
        "Run the reconciliation now, in this process (the trial balance and the "
        "safeguarding comparison with the payment providers), store its report and print "
        "it. Exits with status 1 when it finds a difference, for cron and monitoring."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile()
        for line in report_lines(report):
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(
                f"reconciliation found differences: {len(report.problems)} problem(s), "
                f"difference {report.difference}",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS("No difference."))
