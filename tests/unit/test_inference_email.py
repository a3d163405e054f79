import pytest

from connectors.maildir import mail_record
from connectors.mailparse import read_header_block
from daemon.identity import Me
from daemon.inference.email import infer_mail, parse_date
from tests.helpers import FIXTURES, ME, ME_WORK

me = Me([ME, ME_WORK])


def _infer(name: str, sent: bool = False):
    with open(FIXTURES / name, "rb") as fh:
        rec = mail_record(name, "e", "INBOX", read_header_block(fh), sent=sent)
    return infer_mail(rec, me, "test")


def test_a_newsletter_on_a_list_is_dropped_with_its_rule():
    assert _infer("mail_list_bulk.eml").dropped == "role or no-reply sender"


def test_noreply_sender_is_dropped():
    assert _infer("mail_noreply_receipt.eml").dropped == "role or no-reply sender"


def test_auto_replies_are_dropped():
    assert _infer("mail_auto_submitted.eml").dropped.startswith("automated mail")


def test_mail_that_reached_me_only_by_bcc_is_dropped():
    assert "Bcc" in _infer("mail_bcc_only.eml").dropped


def test_a_broken_date_is_dropped_not_crashed():
    assert _infer("mail_broken_date.eml").dropped == "no readable Date"


def test_inbound_reply_gives_one_interaction_with_decoded_name_and_thread_root():
    inferred = _infer("mail_rfc2047_name_reply.eml")
    assert inferred.dropped is None
    (i,) = inferred.interactions
    assert (i.address, i.name, i.direction, i.initiator) == ("juergen@example.de", "Jürgen Müller", "in", "them")
    assert i.thread == "<m0@home.example>" and i.in_reply_to == "<m1@home.example>"
    assert i.weight == 1.0  # To me alone: the person in Cc does not make it less direct
    assert i.account == ME


def test_outbound_mail_gives_one_interaction_per_recipient_weighted_by_fanout():
    inferred = _infer("mail_folded_recipients_outbound.eml", sent=True)
    assert sorted(i.address for i in inferred.interactions) == ["bob@acme.example", "carol@acme.example", "jane.doe@acme.example"]
    assert {i.direction for i in inferred.interactions} == {"out"}
    assert {i.weight for i in inferred.interactions} == {0.6}


def test_date_without_zone_is_utc_and_ancient_dates_are_refused():
    assert parse_date("Mon, 04 May 2026 07:00:00 -0000") == parse_date("Mon, 04 May 2026 07:00:00 +0000")
    assert parse_date("Mon, 01 Jan 1970 00:00:00 +0000") is None


def _labelled(labels: tuple[str, ...], reply: bool = False, sent: bool = False):
    sender, to = ("me@example.org", "friend@example.com") if sent else ("friend@example.com", "me@example.org")
    block = (f"From: Sam <{sender}>\r\nTo: {to}\r\nDate: Mon, 04 May 2026 07:00:00 +0000\r\n"
             f"Message-ID: <x1@example.com>\r\n" + ("In-Reply-To: <x0@example.org>\r\n" if reply else "")).encode()
    return infer_mail(mail_record("x1", "1", "INBOX", block, sent=sent, labels=labels), Me(["me@example.org"]), "gmail")


def test_gmail_labels_feed_the_noise_filter():
    assert _labelled(("INBOX",)).dropped is None  # a plain inbox message from a person counts
    assert _labelled(("SPAM",)).dropped == "marked as spam (Gmail label SPAM)"
    assert _labelled(("TRASH", "INBOX")).dropped == "in the trash (Gmail label TRASH)"
    assert _labelled(("DRAFT",), sent=True).dropped == "a draft, never sent (Gmail label DRAFT)"
    for category in ("CATEGORY_PROMOTIONS", "CATEGORY_SOCIAL", "CATEGORY_FORUMS"):
        assert category in _labelled(("INBOX", category)).dropped
        assert _labelled(("SENT", category), sent=True).dropped is None  # what I send is never bulk
    # Updates holds receipts and notifications, but also real answers Gmail misfiled: a reply counts
    assert "CATEGORY_UPDATES" in _labelled(("INBOX", "CATEGORY_UPDATES")).dropped
    assert _labelled(("INBOX", "CATEGORY_UPDATES"), reply=True).dropped is None
    assert _labelled(("INBOX", "CATEGORY_PERSONAL")).dropped is None


def test_the_fast_date_reading_agrees_with_the_lenient_parser():
    """parse_date reads the usual form with a regex and leaves the rest to the standard library;
    on both sides of that line the answers must be the lenient parser's own."""
    import random

    from daemon.inference import email as mail_inference

    rng = random.Random(7)
    zones = ["+0200", "-0000", "+0000", "-0930", "+2400", "+0099", "GMT", "EST", "+0100 (CET)", "+0100(CET)", "z"]
    values = [f"{rng.choice(['Mon, ', 'mon,', '', 'Xyz, '])}{rng.randint(0, 32)} "
              f"{rng.choice(['Jan', 'feb', 'MAY', 'Dec', 'June', 'Foo'])} "
              f"{rng.choice(['2026', '1999', '1970', '0099', '99', '2038'])} "
              f"{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}{rng.choice(['', ':00', ':59', ':60'])} {rng.choice(zones)}"
              for _ in range(5000)]
    fast = 0
    for v in values:
        assert parse_date(v) == mail_inference._parse_date_lenient(v), v
        fast += mail_inference._RFC5322_DATE.match(v) is not None
    assert fast > 1000  # the regex side was exercised, not just the fallback
    assert parse_date("Mon, 04 May 2026 07:00:00 +0200") == 1777870800.0


def test_the_usual_date_form_does_not_need_the_lenient_parser(monkeypatch):
    from daemon.inference import email as mail_inference

    monkeypatch.setattr(mail_inference, "_parse_date_lenient", lambda v: pytest.fail(f"slow path for {v!r}"))
    assert parse_date("Tue, 5 May 2026 07:00 -0130 (NDT)") == 1777969800.0


# -- Real mail: roles over people, list copies, robots, relays ------------------------------------
def _one(name: str, sent: bool = False):
    inferred = _infer(name, sent=sent)
    assert inferred.dropped is None, inferred.dropped
    return inferred.interactions


def test_a_reply_to_me_with_a_crowd_in_cc_is_direct():
    (i,) = _one("mail_reply_to_me_big_cc.eml")
    # To me alone: direct, though posted to lists too (so at a list copy's half weight)
    assert (i.address, i.weight) == ("rita@review.example", 0.5)
    assert i.fanout == 13  # people only: the two lists are not counted


def test_my_reply_to_one_author_with_a_crowd_in_cc_is_direct_to_that_author_only():
    weights = {i.address: i.weight for i in _one("mail_outbound_reply_big_cc.eml", sent=True)}
    assert weights["rita@review.example"] == 1.0
    assert {w for a, w in weights.items() if a != "rita@review.example"} == {0.0}  # Cc'd crowd: co-presence
    assert "linux-foo@vger.kernel.org" not in weights  # a list is no person


def test_a_message_to_a_crowd_is_no_relationship_with_its_sender():
    (i,) = _one("mail_crowd_to_thirty.eml")
    assert i.weight == 0.0


def test_a_list_copy_addressed_to_me_is_an_interaction_at_half_weight():
    (i,) = _one("mail_list_copy_addressed_to_me.eml")
    assert (i.address, i.direction, i.weight) == ("rita@review.example", "in", 0.5)


def test_a_list_copy_that_only_copies_me_is_no_conversation():
    assert _infer("mail_list_copy_only_cc_me.eml").dropped == "mailing list post that only copies me"


def test_list_traffic_not_addressed_to_me_stays_noise():
    assert _infer("mail_list_post_not_addressed_to_me.eml").dropped == "mailing list (not addressed to me)"


def test_the_list_copy_of_my_own_post_counts_even_with_a_spam_mark():
    weights = {i.address: i.weight for i in _one("mail_list_copy_of_my_own_post.eml", sent=True)}
    assert weights == {"rita@review.example": 1.0}


def test_a_relay_is_read_back_to_its_author():
    (i,) = _one("mail_relay_via_display_name.eml")
    assert (i.address, i.name) == ("jane.doe@example.com", "Jane Doe")


def test_a_relay_that_does_not_say_who_wrote_is_dropped_with_its_rule():
    assert _infer("mail_relay_without_author.eml").dropped == "sent through a relay that does not say who wrote it"
    assert _infer("mail_notification_reply_token.eml").dropped == "sent through a relay that does not say who wrote it"


def test_a_list_that_rewrote_from_is_read_back_to_the_author():
    (i,) = _one("mail_list_rewritten_from.eml")
    assert (i.address, i.name) == ("ann@author.example", "Ann Author")


def test_robots_are_dropped_naming_the_rule():
    assert _infer("mail_ci_robot.eml").dropped == "a robot or CI sender (its name)"
    assert _infer("mail_hash_plus_tag_robot.eml").dropped.startswith("a robot or CI sender")


def test_feedback_id_alone_is_no_bulk_mark():
    (i,) = _one("mail_feedback_id_person.eml")
    assert i.address == "finn@fastmail.example"


def test_robot_rules_leave_people_alone():
    from daemon.inference.senders import robot_rule

    for name, address in (("Jane Talbot", "talbot@x.example"), ("Abbot Cohen", "abbot@x.example"),
                          ("Rob Herring (Arm)", "robh@kernel.org"), ("Wolfram Sang", "wsa+renesas@sang-engineering.com"),
                          ("Robert Roboto", "robert@x.example"), ("", "cibele@x.example"),
                          ("Gerrit van Dijk", "gerrit@x.example"), ("Jane Jenkins", "jenkins@x.example"),
                          ("Wang Ci", "ci.wang@x.example"), ("Talbot", "talbot@x.example"), ("", "jane.talbot@x.example")):
        assert robot_rule(name, address) is None, (name, address)
    for name, address in (("kernel test robot", "lkp@intel.com"), ("", "pr-tracker-bot@kernel.org"),
                          ("", "patchwork-bot+netdevbpf@kernel.org"), ("dependabot[bot]", "support@github.example"),
                          ("syzbot", "syzbot@x.example"), ("Jane Doe", "x+3f2a9c0d1e7b4a55@x.example"),
                          ("0-DAY CI Kernel Test Service", "lkp@intel.com"), ("Linux Kernel Functional Testing", "lkft@linaro.org"),
                          ("Gerrit (Code Review)", "review@x.example"), ("", "ci@x.example"), ("", "kernelci-bot@x.example")):
        assert robot_rule(name, address), (name, address)


def test_plus_tags_fold_for_people_but_not_for_relays_or_hashes():
    from daemon.identity import merge_key

    assert merge_key("wsa+renesas@sang-engineering.com") == "wsa@sang-engineering.com"
    assert merge_key("devnull+jane.doe.example.com@kernel.org") != merge_key("devnull+john.roe.example.org@kernel.org")
    assert merge_key("syzbot+3f2a9c0d1e7b4a55@x.example") != merge_key("syzbot+9a8b7c6d5e4f3a2b@x.example")


def test_a_group_that_only_adds_via_to_the_name_keeps_the_authors_own_address():
    (i,) = _one("mail_via_name_own_address.eml")
    assert (i.address, i.name) == ("jane@doe-family.example", "Jane Doe")
