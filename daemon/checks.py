"""One line of `doctor` or `config check`: what was looked at, whether it is fine, and the fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # ok, but worth a look (no source at all, an address missing from [identity])

    def line(self) -> str:
        """``ok   what: detail``, ``warn what: detail -> fix`` or ``FAIL what: detail -> fix``."""
        mark = "warn" if self.warning else "ok  " if self.ok else "FAIL"
        return f"{mark} {self.what}: {self.detail}" + (f" -> {self.fix}" if self.fix and (self.warning or not self.ok) else "")
