"""The email summary: multipart text + HTML, one section per kind of nudge, each with its why.

Names and reasons appear only in the body, cleaned of control characters and HTML-escaped; the
headers carry nothing from the data but counts, so no header can be injected.
"""

from __future__ import annotations

import html
from datetime import tzinfo
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from daemon.analysis.report import Contact, Report
from daemon.analysis.rhythm import human_days
from daemon.identity import clean_text

SECTIONS = (
    ("friends", "Reconnect with friends"),
    ("professional", "Follow up professionally"),
    ("one_sided", "One-sided patterns"),
    ("owed", "Replies you owe"),
)


def sections(report: Report) -> dict[str, list[tuple[Contact, str]]]:
    """(contact, why) per section, most overdue first; each person once, under the diagnosis that
    says what to do: a reply owed, else a lapse (whose why says who always started, if one side
    did), else the one-sided pattern."""
    out: dict[str, list[tuple[Contact, str]]] = {key: [] for key, _ in SECTIONS}
    for c in sorted(report.flagged(), key=lambda c: -max(f.severity for f in c.flags)):
        lapsed = next((f for f in c.flags if f.kind == "lapsed"), None)
        owed = next((f for f in c.flags if f.pattern == "unanswered_by_you"), None)
        if owed:
            out["owed"].append((c, owed.why))
        elif lapsed:
            out["professional" if c.relationship == "professional" else "friends"].append((c, lapsed.why))
        else:
            out["one_sided"].append((c, c.flags[0].why))
    return out


def _figures(report: Report) -> list[tuple[str, str]]:
    last = report.monthly[-1][1] if report.monthly else 0
    return [
        ("contacts", str(len(report.contacts))),
        ("need attention", str(len(report.flagged()))),
        ("interactions this month", str(last)),
        ("conversations you start", f"{report.baseline_share:.0%}"),
    ]


def _text(report: Report, groups: dict[str, list[tuple[Contact, str]]], zone: tzinfo, problems: list[str] = ()) -> str:
    lines = [f"tiekeeper summary, {report.as_of.astimezone(zone):%A %-d %B %Y}", ""]
    if problems:
        lines += ["Needs your attention", "--------------------"]
        lines += [f"* {clean_text(p)}" for p in problems]
        lines.append("")
    lines.append("  ".join(f"{v} {k}" for k, v in _figures(report)))
    lines.append("")
    for key, title in SECTIONS:
        items = groups[key]
        if not items:
            continue
        lines += [title, "-" * len(title)]
        for c, why in items:
            lines.append(f"* {clean_text(c.name)} ({c.relationship})")
            lines.append(f"  {clean_text(why)}")
        lines.append("")
    if not report.flagged():
        lines += ["Nothing needs you this time: every tie is on its usual rhythm.", ""]
    lines.append("Interactions per month: " + ", ".join(f"{m[5:]}/{m[2:4]} {n}" for m, n in report.monthly))
    return "\n".join(lines) + "\n"


_CSS_CARD = "font-family:Helvetica,Arial,sans-serif;color:#1f2933;max-width:640px;margin:0 auto;padding:16px"


def _bars(monthly: tuple[tuple[str, int], ...]) -> str:
    top = max((n for _, n in monthly), default=0) or 1
    cells = []
    for month, n in monthly:
        h = max(int(60 * n / top), 2 if n else 0)
        cells.append(
            f'<td style="vertical-align:bottom;text-align:center;padding:0 2px;font-size:10px;color:#52606d">'
            f'<div style="background:#3e7bfa;width:18px;height:{h}px;margin:0 auto"></div>{html.escape(month[5:])}</td>')
    return f'<table role="presentation" cellspacing="0" cellpadding="0" style="height:80px"><tr>{"".join(cells)}</tr></table>'


def _html(report: Report, groups: dict[str, list[tuple[Contact, str]]], zone: tzinfo, problems: list[str] = ()) -> str:
    e = html.escape
    parts = [f'<div style="{_CSS_CARD}">',
             f'<h1 style="font-size:20px;margin:0 0 4px">Keeping in touch</h1>'
             f'<p style="margin:0 0 16px;color:#52606d">{e(f"{report.as_of.astimezone(zone):%A %-d %B %Y}")}</p>',
             '<table role="presentation" cellspacing="0" cellpadding="0" style="margin:0 0 16px"><tr>']
    for label, value in _figures(report):
        parts.append(f'<td style="padding:8px 12px;background:#f0f4f8;border-radius:6px;text-align:center">'
                     f'<div style="font-size:18px;font-weight:bold">{e(value)}</div>'
                     f'<div style="font-size:11px;color:#52606d">{e(label)}</div></td><td style="width:8px"></td>')
    parts.append("</tr></table>")
    if problems:
        parts.append('<div style="background:#fff3c4;border-radius:6px;padding:8px 12px;margin:0 0 12px">'
                     '<b>Needs your attention</b>'
                     + "".join(f'<div style="font-size:13px">{e(clean_text(p))}</div>' for p in problems) + "</div>")
    for key, title in SECTIONS:
        items = groups[key]
        if not items:
            continue
        parts.append(f'<h2 style="font-size:16px;margin:20px 0 8px;border-bottom:1px solid #d9e2ec">{e(title)}</h2>')
        for c, why in items:
            last = f" · usually every {human_days(c.expected_gap_days)}" if c.expected_gap_days else ""
            parts.append(f'<p style="margin:0 0 10px"><b>{e(clean_text(c.name))}</b>'
                         f'<span style="color:#7b8794;font-size:12px"> {e(c.relationship)}{e(last)}</span><br>'
                         f'<span style="font-size:14px">{e(clean_text(why))}</span></p>')
    if not report.flagged():
        parts.append("<p>Nothing needs you this time: every tie is on its usual rhythm.</p>")
    parts.append('<h2 style="font-size:16px;margin:20px 0 8px;border-bottom:1px solid #d9e2ec">Interactions per month</h2>')
    parts.append(_bars(report.monthly))
    parts.append('<p style="font-size:11px;color:#9aa5b1;margin-top:20px">Made by tiekeeper from mail and calendar '
                 'metadata on your own machine.</p></div>')
    return "<!doctype html><html><body style=\"margin:0;background:#ffffff\">" + "".join(parts) + "</body></html>"


def build(report: Report, zone: tzinfo, sender: str = "tiekeeper <tiekeeper@localhost>",
          recipient: str | None = None, problems: list[str] = ()) -> EmailMessage:
    """The digest as a MIME message (text and HTML alternatives)."""
    groups = sections(report)
    n = len(report.flagged())
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = (f"tiekeeper: {n} {'person needs' if n == 1 else 'people need'} a nudge" if n
                      else "tiekeeper: all your ties are on rhythm")
    msg["From"] = sender
    if recipient:
        msg["To"] = recipient
    msg["Date"] = format_datetime(report.as_of.astimezone(zone))
    msg["Message-ID"] = make_msgid(domain="tiekeeper.localhost")
    msg.set_content(_text(report, groups, zone, problems))
    msg.add_alternative(_html(report, groups, zone, problems), subtype="html")
    return msg


def preview_html(report: Report, zone: tzinfo) -> str:
    return _html(report, sections(report), zone)


