"""`tiekeeper auth google`: the OAuth consent flow for Gmail and Google Calendar sources.

google-auth-oauthlib's InstalledAppFlow with a loopback redirect: a one-shot web server on
localhost receives the code after the user consents in a browser. The user's own OAuth client file
(a "Desktop app" client from Google Cloud's console) is used, with the narrowest scopes the
configured sources need. The refresh token goes to the keyring (or a 0600 token file for headless
boxes); access tokens are never stored, and nothing here is logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from connectors import google_api as g
from connectors.registry import GoogleSource
from daemon.errors import AuthError, UsageError


@dataclass(frozen=True)
class Grant:
    """One consent: an account, the scopes its sources need, and the sources to store it for."""

    account: str
    scopes: tuple[str, ...]
    sources: tuple[GoogleSource, ...]


def grants(sources: list[GoogleSource], followups_source: str | None) -> list[Grant]:
    """One grant per account: a single consent covers that account's Gmail and Calendar sources."""
    by_account: dict[str, list[GoogleSource]] = {}
    for s in sources:
        by_account.setdefault(s.account, []).append(s)
    out = []
    for account, group in by_account.items():
        scopes = set().union(*(s.scopes(s.name == followups_source) for s in group))
        out.append(Grant(account, tuple(sorted(scopes)), tuple(group)))
    return out


def authorize(grant: Grant, client_file: Path, open_browser: bool, say) -> dict:
    """Run the consent flow in a browser; return the authorized-user info (refresh token included)."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    try:
        client = json.loads(client_file.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read the OAuth client file {client_file} ({type(e).__name__})",
                         "download it from Google Cloud console > APIs & Services > Credentials (see README)") from None
    if "installed" not in client:
        raise UsageError(f"{client_file} is not a Desktop-app OAuth client (no \"installed\" section)",
                         "create an OAuth client of type \"Desktop app\" (see README)")
    flow = InstalledAppFlow.from_client_config(client, scopes=list(grant.scopes))
    prompt = ("Open this address in a browser on this machine (or forward the port over SSH) and allow "
              "tiekeeper to read " + _what(grant.scopes) + ":\n{url}")
    creds = flow.run_local_server(host="localhost", port=0, open_browser=open_browser,
                                  authorization_prompt_message=prompt if not open_browser else "",
                                  success_message="tiekeeper is authorized. You can close this tab.",
                                  login_hint=grant.account, prompt="consent", access_type="offline")
    if not creds.refresh_token:
        raise AuthError(grant.sources[0].name, "Google returned no refresh token",
                        "remove tiekeeper's access at https://myaccount.google.com/permissions and try again")
    info = json.loads(creds.to_json())
    info["token_uri"] = client["installed"].get("token_uri") or g.GOOGLE_TOKEN_URI
    info["scopes"] = list(grant.scopes)
    return info


def _what(scopes: tuple[str, ...]) -> str:
    parts = []
    if g.GMAIL_SCOPE in scopes:
        parts.append("mail headers and labels (never bodies)")
    if g.CALENDAR_READ_SCOPE in scopes:
        parts.append("your calendars")
    if g.CALENDAR_WRITE_SCOPE in scopes:
        parts.append("and write follow-up events")
    return ", ".join(parts) or "your account"
