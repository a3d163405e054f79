"""The email summary: multipart text + HTML, one section per kind of nudge, each with its why.

Names and reasons appear only in the body, cleaned of control characters and HTML-escaped; the
headers carry nothing from the data but counts, so no header can be injected.
"""

from __future__ import annotations

import calendar
import html
from collections.abc import Sequence
from datetime import tzinfo
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

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
        lapsed = next((f for f in c.flags if f.check == "lapsed"), None)
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
        ("interactions this month so far", str(last)),
        ("conversations you start", f"{report.baseline_share:.0%}"),
    ]


def _text(report: Report, groups: dict[str, list[tuple[Contact, str]]], zone: tzinfo, problems: Sequence[str] = ()) -> str:
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
    lines.append(_chart_text(report, zone))
    return "\n".join(lines) + "\n"


_CSS_CARD = "font-family:Helvetica,Arial,sans-serif;color:#1f2933;max-width:640px;margin:0 auto;padding:16px"


def _month_label(month: str) -> str:
    """"2026-11" -> "Nov"; January also names its year ("Jan 27"), so a year's turn is visible."""
    year, number = int(month[:4]), int(month[5:7])
    name = calendar.month_abbr[number]
    return f"{name} {year % 100:02d}" if number == 1 else name


def _partial(report: Report, zone: tzinfo) -> str | None:
    """The last month of the chart when it is still running: its label and how far it has got."""
    if not report.monthly:
        return None
    local = report.as_of.astimezone(zone)
    month = report.monthly[-1][0]
    if month != f"{local:%Y-%m}":
        return None
    return f"{_month_label(month)} so far (to {local:%-d %b})"


def _chart_text(report: Report, zone: tzinfo) -> str:
    partial = _partial(report, zone)
    cells = [f"{_month_label(m)} {n}" for m, n in report.monthly]
    if partial and cells:
        cells[-1] += " (so far)"
    return "Interactions per month: " + ", ".join(cells) + (f". {partial}." if partial else "")


_BAR = "#3e7bfa"
_BAR_PARTIAL = "#b3ccfd"


def _bars(report: Report, zone: tzinfo) -> str:
    """A bar per month with its count above and its name below; the running month in a paler,
    dashed bar marked "so far", so it does not read as a drop."""
    monthly = report.monthly
    partial = _partial(report, zone)
    top = max((n for _, n in monthly), default=0) or 1
    cells = []
    for i, (month, n) in enumerate(monthly):
        running = partial is not None and i == len(monthly) - 1
        h = max(int(60 * n / top), 2 if n else 0)
        style = (f"background:{_BAR_PARTIAL};border:1px dashed {_BAR};box-sizing:border-box" if running
                 else f"background:{_BAR}")
        label = html.escape(_month_label(month)) + ("<br>so far" if running else "")
        cells.append(
            f'<td style="vertical-align:bottom;text-align:center;padding:0 2px;font-size:10px;color:#52606d">'
            f'<div style="font-size:9px;color:#323f4b">{n}</div>'
            f'<div style="{style};width:22px;height:{h}px;margin:0 auto"></div>{label}</td>')
    note = (f'<p style="font-size:11px;color:#7b8794;margin:4px 0 0">{html.escape(partial)}: the month is not over, '
            f'so its bar is not a drop.</p>' if partial else "")
    return (f'<table role="presentation" cellspacing="0" cellpadding="0" style="height:96px"><tr>{"".join(cells)}'
            f'</tr></table>{note}')


def _html(report: Report, groups: dict[str, list[tuple[Contact, str]]], zone: tzinfo, problems: Sequence[str] = ()) -> str:
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
    parts.append(_bars(report, zone))
    parts.append('<p style="font-size:11px;color:#9aa5b1;margin-top:20px">Made by tiekeeper from mail and calendar '
                 'metadata on your own machine.</p></div>')
    return "<!doctype html><html><body style=\"margin:0;background:#ffffff\">" + "".join(parts) + "</body></html>"


def _domain(sender: str) -> str:
    """The domain of the sender's address, for the Message-ID (RFC 5322 3.6.4: a domain the sender
    may speak for; a receiving filter may score a foreign or made-up one as spam)."""
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def build(report: Report, zone: tzinfo, sender: str = "tiekeeper <tiekeeper@localhost>",
          recipient: str | None = None, problems: Sequence[str] = ()) -> EmailMessage:
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
    msg["Message-ID"] = make_msgid(domain=_domain(sender))
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies or other auto-answers to it
    msg.set_content(_text(report, groups, zone, problems))
    msg.add_alternative(_html(report, groups, zone, problems), subtype="html")
    return msg


def preview_html(report: Report, zone: tzinfo) -> str:
    return _html(report, sections(report), zone)


