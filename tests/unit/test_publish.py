"""What a remote follow-ups calendar is told, given what the user did there (pure)."""

from daemon.outputs.followups import FollowUp
from daemon.outputs.publish import DISMISSED, EDITED, OURS, Published, changes, reconcile


def followup(uid: str, sequence: int = 0, status: str = "CONFIRMED") -> FollowUp:
    return FollowUp(uid=uid, contact="c", cycle="20260101", sequence=sequence, status=status, start=1e9,
                    end=1e9 + 1800, summary="s", description="d", fingerprint="fp", updated=1e9)


def test_reconcile_learns_deletions_and_edits_from_the_listing_and_keeps_the_rest():
    known = {"a": Published(0, "r/a", '"1"'), "b": Published(0, "r/b", '"1"'), "c": Published(0, "r/c", '"1"'),
             "old": Published(2, "r/old", ""), "gone": Published(1, "r/gone", "", DISMISSED)}
    seen = reconcile(known, {"r/a": '"1"', "r/b": '"2"', "r/old": '"9"', "r/user-own-event": '"5"'})
    assert seen == {"a": known["a"], "b": Published(0, "r/b", '"2"', EDITED), "c": Published(0, "r/c", "", DISMISSED),
                    "old": Published(2, "r/old", '"9"', OURS),  # from before etags were kept: taken as ours
                    "gone": known["gone"]}
    # an edited one stays the user's, whatever its etag does next
    assert reconcile({"b": seen["b"]}, {"r/b": '"3"'})["b"] == Published(0, "r/b", '"3"', EDITED)


def test_only_our_own_changed_events_are_written_and_dismissed_ones_are_never_made_again():
    published = {"ours": Published(0, "r/ours", '"1"'), "same": Published(1, "r/same", '"1"'),
                 "edited": Published(0, "r/edited", '"7"', EDITED), "dismissed": Published(0, "", "", DISMISSED),
                 "resolved": Published(0, "r/resolved", '"4"', EDITED), "resolved-gone": Published(0, "", "", DISMISSED)}
    planned = [followup("ours", 1), followup("same", 1), followup("edited", 3), followup("dismissed", 2),
               followup("new"), followup("resolved", 1, "CANCELLED")]
    got = {(c.action, c.uid, c.remote_id, c.etag) for c in changes(planned, published)}
    assert got == {("put", "ours", "r/ours", '"1"'), ("put", "new", "", ""), ("delete", "resolved", "r/resolved", '"4"'),
                   ("forget", "resolved-gone", "", "")}
