"""Governance's refusals, each with a stable code and kind."""

from common.domain import Conflict, InvalidRequest


class StaffOtpAlreadyEnrolled(Conflict):
    code = "staff_otp_already_enrolled"
    title = "Already enrolled"
    default_detail = (
        "This account already has a two-factor device; replace it on purpose (--replace)."
    )


class NotStaff(InvalidRequest):
    code = "not_staff"
    title = "Not a member of staff"
    default_detail = "Only staff accounts sign in to the admin with a second factor."


class BacktestRefused(Conflict):
    code = "backtest_refused"
    title = "Backtest refused"
    default_detail = "Only a draft scorecard is backtested, against the active version."


class DriftBaselineUnavailable(Conflict):
    code = "drift_baseline_unavailable"
    title = "No baseline for drift"
    default_detail = "The active scorecard has no scores yet to measure drift against."
