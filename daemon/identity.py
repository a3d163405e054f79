"""Addresses and names: parsing, normalising, and telling whether an address is mine.

Pure functions. The merge of one person's many addresses into one contact lives in
``daemon.analysis.contacts``; this module only provides the keys it merges on.
"""

from __future__ import annotations

import re
import unicodedata
from email.header import decode_header, make_header
from email.utils import getaddresses
from functools import lru_cache

# Free-mail domains: a weak cue that an address is personal. Never a filter: friends use these.
FREEMAIL = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de ymail.com hotmail.com
    hotmail.co.uk hotmail.fr hotmail.de outlook.com live.com msn.com icloud.com me.com mac.com
    aol.com gmx.de gmx.net gmx.at gmx.ch web.de posteo.de posteo.net mailbox.org proton.me
    protonmail.com pm.me fastmail.com fastmail.fm hey.com zoho.com yandex.ru mail.ru t-online.de
    freenet.de orange.fr free.fr laposte.net libero.it virgilio.it btinternet.com comcast.net
    verizon.net att.net sbcglobal.net qq.com 163.com 126.com naver.com seznam.cz wp.pl o2.pl
    tutanota.com tuta.io""".split()
)
_GMAIL = frozenset({"gmail.com", "googlemail.com"})
# Local parts whose plus tag names someone else (relays, notifiers): such tags are never folded.
_RELAY_LOCALS = frozenset({"devnull", "reply", "replies", "bounce", "bounces", "relay", "noreply", "no-reply",
                           "notification", "notifications"})
# A tag that is a machine's token: digits mixed with letters (10+), or hex (8+).
_TOKEN_TAG = re.compile(r"^(?=[a-z0-9_=-]*\d)(?=[a-z0-9_=-]*[a-z])[a-z0-9_=-]{10,}$|^[0-9a-f]{8,}$", re.IGNORECASE)
_OBFUSCATED = re.compile(r"^\s*([^\s@]+)\s+at\s+([^\s@]+\.[^\s@]+)\s*$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Strip control characters, line separators and bidi overrides; fold white space."""
    # Every character _CONTROL matches is unprintable, and in printable text the only white
    # space is " ": such text with single spaces inside only is clean already (most text is).
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(_CONTROL.sub(" ", text).split())


def clean_lines(text: str) -> str:
    """``clean_text`` line by line, keeping the line breaks (an event's description)."""
    return "\n".join(clean_text(line) for line in text.split("\n"))


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words ("=?utf-8?q?J=C3=BCrgen?="); leave anything broken as it is."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, ValueError, UnicodeError, AssertionError):
        return value


@lru_cache(maxsize=65536)
def normalize_address(address: str) -> str:
    """Lower-case, trimmed, without angle brackets; "user at host" (pipermail) turned back into
    "user@host". Returns "" for something that is not an address at all."""
    a = address.strip().strip("<>").strip().strip("'\"").lower()
    if "@" not in a:
        m = _OBFUSCATED.match(a)
        if not m:
            return ""
        a = f"{m[1]}@{m[2]}"
    local, _, domain = a.rpartition("@")
    if not local or not domain or " " in a:
        return ""
    return f"{local}@{domain.rstrip('.')}"


@lru_cache(maxsize=65536)
def merge_key(address: str) -> str:
    """The key under which variants of one mailbox meet: a person's plus-tags dropped, and dots
    dropped for Gmail only (Gmail ignores them; other providers do not).

    A tag is kept where it is no folder of one mailbox: on a relay's or notifier's address
    (``devnull+jane.example.com@``, ``reply+AB12@``), where the tag names whoever used the relay,
    and where it is a hash (``syzbot+3f2a9c0d1e@``)."""
    local, _, domain = address.rpartition("@")
    base, plus, _ = local.partition("+")
    if plus and base and not (is_relay_address(address) or has_hash_tag(address)):
        local = base
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def is_relay_address(address: str) -> bool:
    """``devnull+jane.example.com@kernel.org``, ``reply+AB12CD@reply.github.com``: an address that
    stands for whoever used the relay, never one person's mailbox."""
    base, plus, _ = address.rpartition("@")[0].partition("+")
    return bool(plus) and base.lower() in _RELAY_LOCALS


def has_hash_tag(address: str) -> bool:
    """``syzbot+3f2a9c0d1e@…``, ``bounce+9xk2l3m4n5@…``: a tag that is a token, made per message or
    per report by a machine, never a person's own folder tag like ``+lists``."""
    _, plus, tag = address.rpartition("@")[0].partition("+")
    return bool(plus) and bool(_TOKEN_TAG.match(tag))


def domain_of(address: str) -> str:
    return address.rpartition("@")[2]


# The common shapes of one mailbox: `addr`, `<addr>`, `Name <addr>`, `"Name, Q." <addr>`.
_SIMPLE = re.compile(r'^\s*(?:"([^"\\]*)"|([^"<>,;:@()\\]*?))?\s*<([^<>\s@,;]+@[^<>\s@,;]+)>\s*$|^\s*([^<>\s@,;"()]+@[^<>\s@,;"()]+)\s*$')
_SPLIT = re.compile(r'(?:"[^"\\]*"|<[^<>]*>|[^,"<])+')


def _fast_split(value: str) -> list[tuple[str, str]] | None:
    """Parse the usual shapes by regex; None when anything unusual needs the full RFC parser."""
    out = []
    for part in _SPLIT.findall(value):
        if not part.strip():
            continue
        m = _SIMPLE.match(part)
        if not m:
            return None
        # getaddresses keeps a quoted name as it is and folds white space in an unquoted one
        name = m.group(1) if m.group(1) is not None else " ".join((m.group(2) or "").split())
        out.append((name.strip(), m.group(3) or m.group(4)))
    return out


@lru_cache(maxsize=32768)
def _parse_address_list(value: str, limit: int) -> tuple[tuple[str, str], ...]:
    if len(value) > limit * 80:
        value = value[: limit * 80]
    value = value.replace("\n", " ").replace("\r", " ")
    pairs = _fast_split(value)
    if pairs is None:
        pairs = getaddresses([value])
    out = []
    for name, addr in pairs:
        norm = normalize_address(addr) or normalize_address(f"{addr} {name}" if name else addr)
        if not norm:
            # pipermail writes "user at host (Full Name)": getaddresses splits it oddly
            norm = normalize_address(name) if name else ""
            name = ""
        if norm:
            out.append((clean_text(decode_words(name)), norm))
        if len(out) >= limit:
            break
    return tuple(out)


def parse_address_list(value: str | None, limit: int = 5000) -> list[tuple[str, str]]:
    """(display name, normalised address) pairs from a header value; bad entries are left out.

    ``limit`` bounds the work on hostile headers (tens of thousands of recipients)."""
    if not value:
        return []
    return list(_parse_address_list(value, limit))


_NAME_NOISE = re.compile(r"[\"'()\[\]<>]")
# What makes a name need more than case and spaces folded: an encoded word ("=?"), quotes and
# brackets, an address, a comma ("Doe, Jane"). Without these, a printable ASCII name is plain.
_NOT_PLAIN = re.compile(r"[\"'()\[\]<>@,]|=\?")


# Han, Hiragana, Katakana and Hangul: scripts written without spaces between name parts.
_CJK = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
                  "\U00020000-\U0002fa1f]")


def _fold_latin_marks(text: str) -> str:
    """Diacritics dropped from Latin letters ("Jürgen" -> "Jurgen", "Zoë" -> "Zoe"); marks on other
    scripts (a kana's voicing mark) are part of the letter and stay."""
    if text.isascii():
        return text
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and out and ord(out[-1]) < 0x0250:
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """A comparable form of a display name, whatever its script: "Doe, Jane", "jane  DOE" and
    "Jane Doé" all become "doe jane"; "佐藤 花子", "佐藤花子" and "花子 佐藤" meet too (names in
    scripts written without spaces compare by their characters, in any order).

    Unicode compatibility forms (full-width letters), case and diacritics on Latin letters are
    folded; the order of the parts is not kept."""
    # Most names are plain: of all the steps below, only case and spaces change them.
    if name.isascii() and name.isprintable() and not _NOT_PLAIN.search(name):
        return " ".join(sorted(name.casefold().split()))
    return normalize_name_in_full(name)


def normalize_name_in_full(name: str) -> str:
    """``normalize_name``, every step taken."""
    n = clean_text(_NAME_NOISE.sub(" ", decode_words(name)))
    if "@" in n:
        return ""
    if n.count(",") == 1:
        last, first = n.split(",")
        n = f"{first} {last}"
    if not n.isascii():
        n = _fold_latin_marks(unicodedata.normalize("NFKC", n))
    n = n.casefold().replace(",", " ")
    if not n.isascii() and _CJK.search(n):
        return "".join(sorted(ch for ch in n if not ch.isspace()))
    return " ".join(sorted(n.split()))


def is_cjk_name(normalized: str) -> bool:
    return not normalized.isascii() and _CJK.search(normalized) is not None


_SPELLING = re.compile(r"[._\-]+")


@lru_cache(maxsize=65536)
def spelled_name(address: str) -> tuple[str, str]:
    """What an address's local part spells, to be matched with names: ("ana costa", "anacosta")
    for ana.costa7@ and ("", "anacosta") for anacosta@; ("", "") when it spells nothing usable.
    The first is in ``normalize_name``'s form (words sorted); the second is the letters only."""
    local = address.rpartition("@")[0].split("+", 1)[0]
    words = [w for w in (re.sub(r"\d+", "", part) for part in _SPELLING.split(local)) if w]
    if not words or not all(w.isascii() and w.isalpha() for w in words):
        return "", ""
    return (" ".join(sorted(words)) if len(words) >= 2 else ""), "".join(words)


@lru_cache(maxsize=65536)
def nice_name(name: str, address: str) -> str:
    """A display name for people: the best name seen, else the address's local part."""
    n = clean_text(decode_words(name)).strip("\"' ")
    if n.count(",") == 1 and "@" not in n:
        last, first = (p.strip() for p in n.split(","))
        if first and last:
            n = f"{first} {last}"
    return n or address


class Me:
    """The user's own addresses, compared by merge key so plus-tags and Gmail dots still match."""

    def __init__(self, addresses: tuple[str, ...] | list[str], contexts: dict[str, str] | None = None) -> None:
        self.addresses = tuple(normalize_address(a) for a in addresses if normalize_address(a))
        # what an account carries, as told in [identity] context: merge key -> "personal" | "professional"
        self.contexts = {merge_key(normalize_address(a)): c for a, c in (contexts or {}).items() if normalize_address(a)}
        self._keys = frozenset(merge_key(a) for a in self.addresses)
        self.domains = frozenset(domain_of(a) for a in self.addresses)
        self.work_domains = frozenset(d for d in self.domains if d not in FREEMAIL)
        # Every address of mine names one of these in its lower case (Gmail under either name).
        self._hints = tuple(self.domains | (_GMAIL if self.domains & _GMAIL else frozenset()))
        self._told: dict[str, bool] = {}  # addresses asked about before, and the answer

    def __contains__(self, address: str) -> bool:
        told = self._told.get(address)
        if told is None:
            told = self._told[address] = bool(address) and merge_key(normalize_address(address)) in self._keys
        return told

    def context_of(self, address: str) -> str | None:
        """What the user said this account of theirs carries, if anything."""
        return self.contexts.get(merge_key(normalize_address(address))) if self.contexts else None

    def among(self, addresses: list[str]) -> list[bool]:
        """``address in self`` for each of many addresses. Those that name none of my domains are
        told at once (most of them), without normalising them first."""
        hints = self._hints
        return [any(h in a.lower() for h in hints) and a in self for a in addresses]

    def fingerprint(self) -> str:
        return ",".join(sorted(self._keys))
