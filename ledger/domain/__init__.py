"""The governance domain: event-sourced aggregates and their rules.

Importing this package registers every record type (``ledger.types``) and
who may write it (``ledger.authz``).  The rules themselves live on the
events (``check`` methods); docs/rules.md describes them.
"""

from ledger.authz import register_writers
from ledger.domain import (  # noqa: F401
    committee,
    covenant,
    dispute,
    feedback,
    funding,
    identity,
    milestone,
    motion,
    organisation,
    sealing,
)

SEC = ["secretariat"]
MEMBERS = ["member", "chair"]
NEUTRALS = ["ombudsperson", "mediator"]

register_writers({
    "covenant.drafted": SEC,
    "covenant.acceded": MEMBERS,
    "covenant.reviewed": SEC,
    "covenant.amended": SEC,
    "covenant.renewed": SEC,
    "covenant.terminated": SEC,
    "covenant.party_admitted": SEC,
    "covenant.party_withdrew": MEMBERS,
    "covenant.party_expelled": SEC,
    "covenant.representatives_changed": SEC + MEMBERS,
    "committee.established": SEC,
    "committee.seat_assigned": SEC,
    "committee.seat_vacated": SEC,
    "committee.meeting_scheduled": SEC,
    "meeting.scheduled": SEC,
    "meeting.chair_delegated": SEC + MEMBERS,
    "meeting.agenda_published": SEC,
    "meeting.attendance_recorded": SEC,
    "meeting.arrived": SEC,
    "meeting.departed": SEC,
    "meeting.conflict_declared": SEC + MEMBERS,
    "meeting.minutes_adopted": SEC,
    "meeting.postponed": SEC,
    "meeting.cancelled": SEC,
    "meeting.closed": SEC + MEMBERS,
    "motion.proposed": MEMBERS,
    "motion.amendment_tabled": MEMBERS,
    "motion.text_amended": SEC + MEMBERS,
    "motion.seconded": MEMBERS,
    "motion.withdrawn": MEMBERS,
    "motion.vote_opened": SEC + MEMBERS,
    "motion.vote_cast": SEC + MEMBERS,
    "motion.closed": SEC + MEMBERS,
    "motion.dissent_attached": SEC + MEMBERS,
    "organisation.registered": SEC,
    "sealed.erased": SEC + NEUTRALS,
    "feedback.submitted": SEC + MEMBERS,
    "feedback.acknowledged": SEC + MEMBERS + NEUTRALS,
    "feedback.replied": SEC + MEMBERS + NEUTRALS,
    "feedback.closed": SEC + MEMBERS + NEUTRALS,
    "fund.established": SEC,
    "fund.pledged": SEC + MEMBERS,
    "fund.received": SEC,
    "fund.allocated": SEC,
    "fund.disbursed": SEC,
    "fund.returned": SEC,
    "milestone.defined": SEC,
    "milestone.progress_reported": SEC + MEMBERS,
    "milestone.evaluated": ["auditor", "member"],
    "dispute.filed": SEC + MEMBERS,
    "dispute.acknowledged": SEC,
    "dispute.assigned": SEC,
    "dispute.submission_made": SEC + MEMBERS + NEUTRALS,
    "dispute.hearing_held": NEUTRALS,
    "dispute.finding_recorded": NEUTRALS,
    "dispute.remedy_ordered": NEUTRALS,
    "dispute.compliance_recorded": SEC,
    "dispute.closed": SEC + NEUTRALS,
    "dispute.appealed": MEMBERS,
})
