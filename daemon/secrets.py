"""Secrets: from a password_command or the system keyring, never from the config file.

The keyring backend must be a real secret store. keyrings.alt's plaintext and "encrypted" file
backends (which a stray install makes the default) are refused rather than used silently.
"""

from __future__ import annotations

import logging
import subprocess

from daemon.errors import AuthError

log = logging.getLogger(__name__)
SERVICE = "tiekeeper"
_UNSAFE_BACKENDS = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")


def keyring_key(source: str, username: str) -> str:
    return f"{source}:{username}"


def _keyring():
    """The keyring module with a safe backend, or None with the reason."""
    try:
        import keyring
    except ImportError:
        return None, "the keyring package is not installed"
    backend = keyring.get_keyring()
    module = type(backend).__module__
    if module.startswith(_UNSAFE_BACKENDS) or "chainer" in module and not backend.backends:
        return None, f"no safe keyring backend here ({module})"
    return keyring, ""


def get_password(source: str, username: str, command: tuple[str, ...] | None) -> str:
    if command:
        try:
            out = subprocess.run(list(command), capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise AuthError(source, f"password_command could not run ({type(e).__name__})",
                            f"check sources.{source}.password_command") from None
        if out.returncode != 0 or not out.stdout.strip():
            raise AuthError(source, f"password_command exited {out.returncode} without a password",
                            f"run it by hand to see why: {' '.join(command)}")
        return out.stdout.rstrip("\n").splitlines()[0]
    kr, why = _keyring()
    if kr is None:
        raise AuthError(source, f"no password_command and {why}",
                        f"set sources.{source}.password_command, or run a Secret Service and `tiekeeper auth password {source}`")
    try:
        password = kr.get_password(SERVICE, keyring_key(source, username))
    except Exception as e:  # noqa: BLE001 - keyring backends raise their own types
        raise AuthError(source, f"the keyring refused ({type(e).__name__})", "unlock your keyring") from None
    if not password:
        raise AuthError(source, "no password stored", f"run `tiekeeper auth password {source}`")
    return password


def set_password(source: str, username: str, password: str) -> None:
    kr, why = _keyring()
    if kr is None:
        raise AuthError(source, f"cannot store the password: {why}",
                        f"use sources.{source}.password_command instead (e.g. [\"pass\", \"show\", \"{source}\"])")
    kr.set_password(SERVICE, keyring_key(source, username), password)
