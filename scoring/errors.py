"""Scoring's refusals, each with a stable code and kind."""

from common.domain import Conflict, Forbidden, InvalidRequest, Unavailable


class InvalidEvent(InvalidRequest):
    code = "invalid_event"
    title = "Invalid credit event"
    default_detail = "This credit event cannot be recorded."


class EventSourceConflict(Conflict):
    code = "event_source_conflict"
    title = "Source already recorded"
    default_detail = "This source was already recorded as a different event."


class AlreadyDisputed(Conflict):
    code = "already_disputed"
    title = "Already disputed"
    default_detail = "This record has already been disputed; each record is disputed once."


class DisputeNotOpen(Conflict):
    code = "dispute_not_open"
    title = "Dispute already resolved"
    default_detail = "This dispute was already answered or resolved."


class ScorecardNotDraft(Conflict):
    code = "scorecard_not_draft"
    title = "Not a draft"
    default_detail = "Only a draft scorecard can be changed or activated."


class NoActiveScorecard(Unavailable):
    code = "no_active_scorecard"
    title = "No active scorecard"
    default_detail = "No scorecard is active; activate one in the admin."


class AccountInactive(Conflict):
    code = "account_inactive"
    title = "Account inactive"
    default_detail = "This account is closed: it has no score."


class DisputeNotEscalatable(Conflict):
    code = "dispute_not_escalatable"
    title = "Dispute cannot be escalated"
    default_detail = (
        "Only a dispute its furnisher verified can be escalated to staff, and only once."
    )


class DisputeNotEscalated(Conflict):
    code = "dispute_not_escalated"
    title = "Dispute not escalated"
    default_detail = "Staff decide only disputes escalated to them that are still undecided."


class FourEyesRequired(Forbidden):
    """A change goes live only when someone who neither wrote, changed nor submitted it
    approves it: the author of a change cannot approve it, whatever their permissions."""

    code = "four_eyes_required"
    title = "A second member of staff must approve"
    default_detail = (
        "You wrote, changed or submitted this change: another member of staff must approve it."
    )


class ScorecardNotSubmitted(Conflict):
    code = "scorecard_not_submitted"
    title = "Not submitted for approval"
    default_detail = "Only a draft submitted for approval can be approved; submit it first."
