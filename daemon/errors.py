"""The error hierarchy.

Library exceptions are translated into these at the boundary where they happen (a connector, the
store, an output). The CLI renders every one of them as a single line with its remedy, and picks the
exit code from the class.
"""

from __future__ import annotations


class TiekeeperError(Exception):
    """Base of every error tiekeeper reports to the user."""

    exit_code = 1

    def __init__(self, message: str, remedy: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def one_line(self) -> str:
        return f"{self.message} ({self.remedy})" if self.remedy else self.message

    def __reduce__(self) -> tuple:
        """Pickled as its class and state, whatever its __init__ takes: an error raised in a worker
        process (daemon.fetch) reaches the parent whole."""
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(cls: type[TiekeeperError], args: tuple, state: dict) -> TiekeeperError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigError(TiekeeperError):
    """The configuration is invalid. Carries every problem found, one per line."""

    exit_code = 2

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = list(problems)
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(self.problems), "fix the config file and run `tiekeeper config check`")

    def lines(self) -> list[str]:
        where = f"{self.path}: " if self.path else ""
        return [f"{where}{p}" for p in self.problems]


class UsageError(TiekeeperError):
    """Bad command-line arguments."""

    exit_code = 2


class SourceError(TiekeeperError):
    """A source could not be read. The other sources carry on; this one is retried later."""

    exit_code = 3

    def __init__(self, source: str, message: str, remedy: str = "") -> None:
        super().__init__(f"source {source}: {message}", remedy)
        self.source = source


class AuthError(SourceError):
    """A source refused our credentials: the user has to act (a new password or token)."""


class EmptySourceGuard(SourceError):
    """A source that had records now lists none (or far fewer): nothing is deleted without --force."""


class StoreError(TiekeeperError):
    """The local database is unusable (locked, corrupt, newer schema)."""

    exit_code = 4


class StoreBusy(StoreError):
    """Another process held the store's write lock for longer than we wait for it (busy_timeout)."""


class OutputError(TiekeeperError):
    """An output (follow-ups file, digest) could not be written or sent."""

    exit_code = 5


class AlreadyRunning(TiekeeperError):
    """Another tiekeeper service holds the lock on this store."""

    exit_code = 6
