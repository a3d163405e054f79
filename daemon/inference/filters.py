"""Rules that tell mail which is no relationship: bulk, automated, role senders, spam.

Each rule returns a short plain-language name, recorded with the dropped message so
``tiekeeper explain`` can say why a sender is not a contact.
"""

from __future__ import annotations

import re

# Local parts of senders that are roles or machines, not people.
_ROLE = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|noreply[-_.].*|no-reply[-_.].*|.*[-_.]noreply|"
    r"bounces?(?:[-+_.].*)?|mailer[-_]daemon|postmaster|notifications?|notify|alerts?|info|support|billing|"
    r"invoices?|newsletters?|news|marketing|updates?|receipts?|orders?|accounts?|security|help|helpdesk|"
    r"service|customer[-_.]?service|customer[-_.]?care|sales|jobs|careers|recruiting|talent|hr|press|"
    r"feedback|digest|automated|system|root|webmaster|calendar[-_.]notification|store|shop|deals|offers|"
    r"promo(?:tions)?|membership|subscriptions?|unsubscribe|announce(?:ments?)?|reminders?|verify|"
    r"confirm(?:ation)?s?|statements?|payments?|donotrespond|auto[-_.]?confirm|admin|team|hello|contact)$"
)
_BULK_PRECEDENCE = frozenset({"bulk", "junk"})  # "list" is a list copy: the list rules decide
# Gmail system labels (kept by the Gmail source) that say a message is no conversation between people.
_NEVER_LABELS = {"SPAM": "marked as spam (Gmail label SPAM)", "TRASH": "in the trash (Gmail label TRASH)",
                 "DRAFT": "a draft, never sent (Gmail label DRAFT)"}
_BULK_CATEGORIES = {"CATEGORY_PROMOTIONS": "promotions", "CATEGORY_SOCIAL": "social network notifications",
                    "CATEGORY_FORUMS": "forums and groups"}


def is_role_address(address: str) -> bool:
    local = address.rpartition("@")[0].split("+", 1)[0]
    return bool(_ROLE.match(local))


def label_noise_rule(labels: set[str], outbound: bool, is_reply: bool) -> str | None:
    """What Gmail's own labels say: spam, trash and drafts never count; inbound mail Gmail filed under
    Promotions, Social or Forums is bulk; Updates counts only when it answers something."""
    for label, rule in _NEVER_LABELS.items():
        if label in labels:
            return rule
    if outbound:
        return None
    for label, what in _BULK_CATEGORIES.items():
        if label in labels:
            return f"Gmail filed it under {what} ({label})"
    if "CATEGORY_UPDATES" in labels and not is_reply:
        return "Gmail filed it under updates and it answers nothing (CATEGORY_UPDATES)"
    return None


def mail_noise_rule(h: dict[str, str], sender: str, outbound: bool) -> str | None:
    """The first rule that says this message is no conversation between people, or None.

    Mailing-list copies are not noise here: the list rules in ``daemon.inference.email`` decide
    them. My own sent mail is never noise by a header someone else added (a provider's spam mark,
    a list's headers); only my own auto-replies and drafts are."""
    if h.get("labels"):
        rule = label_noise_rule(set(h["labels"].split(",")), outbound, bool(h.get("in-reply-to", "").strip()))
        if rule:
            return rule
    auto = h.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"automated mail (Auto-Submitted: {auto})"
    if h.get("x-autoreply") or h.get("x-autorespond"):
        return "automatic reply"
    if outbound:
        return None
    listed = bool(h.get("list-id") or h.get("list-post"))
    if h.get("list-unsubscribe") and not listed:
        return "bulk mail (List-Unsubscribe header)"
    precedence = h.get("precedence", "").strip().lower()
    if precedence in _BULK_PRECEDENCE and not listed:  # many lists mark their copies "bulk"
        return f"bulk mail (Precedence: {precedence})"
    if h.get("x-spam-flag", "").strip().lower().startswith("yes"):
        return "marked as spam"
    if h.get("return-path", "x").strip() in ("<>", ""):
        return "bounce or automated mail (empty Return-Path)"
    if is_role_address(sender):
        return "role or no-reply sender"
    if h.get("bulk") and not h.get("in-reply-to"):
        return f"sent by a bulk mailer ({h['bulk']} header)"
    return None


def fanout_weight(others: int) -> float:
    """How much one message or meeting says about the tie to each of ``others`` people."""
    if others <= 1:
        return 1.0
    if others <= 3:
        return 0.6
    if others <= 9:
        return 0.25
    return 0.0  # mere co-presence


ROLE_WEIGHT = {"to": 1.0, "cc": 0.3, "bcc": 0.3}
LIST_COPY = 0.5  # a list copy addressed To me says half what private mail says
MEETING_WEIGHT = 3.0  # a real meeting says more than one mail
RECURRING_FACTOR = 0.5  # each instance of a recurring series says less than a one-off

# What a meeting or a mail was for, from the words of its title or subject. Dinner, drinks and a
# birthday are leisure; an intro, a 1:1, a review, mentoring or an interview are work. Coffee,
# lunch and a catch-up are said of both, so they decide nothing alone.
_SOCIAL = re.compile(
    r"\b(dinner|drinks?|beers?|party|birthday|bday|bbq|barbecue|picnic|wedding|hike|hiking|climbing|"
    r"movie|cinema|concert|game night|hang ?out|wine|pub|festival|trip|holiday|vacation|christmas|xmas|"
    r"geburtstag|abendessen|brunch|sleepover|housewarming|baby shower|anniversary|family)\b",
    re.I,
)
_WORK = re.compile(
    r"\b(sync|standup|stand-up|1:1|1on1|one[- ]on[- ]one|review|planning|retro|retrospective|sprint|"
    r"interview|intro|introduction|demo|kickoff|kick-off|all[- ]hands|townhall|town hall|roadmap|"
    r"meeting|call|workshop|onboarding|okr|quarterly|qbr|status|design|check[- ]in|pitch|proposal|"
    r"contract|project|client|customer|investor|board|webinar|conference|training|office hours|"
    r"mentor|mentoring|mentorship|networking|referral|career|advice|portfolio|consulting|freelance|"
    r"invoice|quote|partnership|panel|meetup|talk|patch|pull request|bug|release)\b",
    re.I,
)


def meeting_hint(summary: str) -> str:
    """ "social" for dinner, drinks, a birthday; "work" for a sync, review or intro; "" for
    neither, for both ("dinner after the conference"), and for coffee, lunch or a catch-up alone."""
    social, work = bool(_SOCIAL.search(summary)), bool(_WORK.search(summary))
    if social == work:
        return ""
    return "social" if social else "work"
