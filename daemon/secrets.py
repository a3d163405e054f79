"""Secrets: from a password_command or the system keyring, never from the config file.

The keyring backend must be a real secret store. keyrings.alt's plaintext and "encrypted" file
backends (which a stray install makes the default) are refused rather than used silently.
"""

from __future__ import annotations

import importlib
import logging
import os
import subprocess

from daemon.errors import AuthError

log = logging.getLogger(__name__)
SERVICE = "tiekeeper"
_UNSAFE_BACKENDS = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null", "keyring.backends.chainer")
# Real secret stores, in the order tried; the first that answers on this machine is used. keyring's own
# default choice is not trusted: a stray keyrings.alt install would make a plaintext file win.
SAFE_BACKENDS = (
    ("keyring.backends.SecretService", "Keyring"),  # GNOME Keyring, KeePassXC, KWallet 5.97+ over D-Bus
    ("keyring.backends.libsecret", "Keyring"),
    ("keyring.backends.kwallet", "DBusKeyring"),
    ("keyring.backends.macOS", "Keyring"),
    ("keyring.backends.Windows", "WinVaultKeyring"),
)


def keyring_key(source: str, username: str) -> str:
    return f"{source}:{username}"


def keyring_backend():
    """The secret store to use, and "" — or None and why there is none.

    ``PYTHON_KEYRING_BACKEND`` (keyring's own convention) names one explicitly; an unsafe one is refused.
    """
    try:
        import keyring
        import keyring.core
    except ImportError:
        return None, "the keyring package is not installed"
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        try:
            backend = keyring.core.load_keyring(os.environ["PYTHON_KEYRING_BACKEND"])
        except Exception as e:  # noqa: BLE001 - keyring raises its own types for a bad name
            return None, f"PYTHON_KEYRING_BACKEND cannot be loaded ({type(e).__name__})"
        module = type(backend).__module__
        if module.startswith(_UNSAFE_BACKENDS):
            return None, f"PYTHON_KEYRING_BACKEND names {module}, which is no safe secret store"
        return backend, ""
    for module_name, class_name in SAFE_BACKENDS:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
            if cls.priority > 0:  # the property raises when the store is not reachable here
                return cls(), ""
        except Exception:  # noqa: BLE001 - each backend fails in its own way when absent
            continue
    return None, ("no secret store answers here (Secret Service such as gnome-keyring, KWallet, "
                  "macOS Keychain or Windows Credential Locker)")


def backend_name(backend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


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
    return keyring_secret(source, SERVICE, keyring_key(source, username),
                          ("no password_command", f"set sources.{source}.password_command, or run a Secret Service "
                                                  f"and `tiekeeper auth password {source}`"),
                          ("no password stored", f"run `tiekeeper auth password {source}`"))


def keyring_secret(source: str, service: str, key: str, no_backend: tuple[str, str], missing: tuple[str, str]) -> str:
    """A secret from the system keyring, or an AuthError saying what to do: ``no_backend`` and
    ``missing`` are (what is lacking, remedy) for when no keyring answers or it holds nothing."""
    kr, why = keyring_backend()
    if kr is None:
        raise AuthError(source, f"{no_backend[0]} and {why}", no_backend[1])
    try:
        secret = kr.get_password(service, key)
    except Exception as e:  # noqa: BLE001 - keyring backends raise their own types
        raise AuthError(source, f"the keyring refused ({type(e).__name__})", "unlock your keyring") from None
    if not secret:
        raise AuthError(source, missing[0], missing[1])
    return secret


def set_password(source: str, username: str, password: str) -> None:
    kr, why = keyring_backend()
    if kr is None:
        raise AuthError(source, f"cannot store the password: {why}",
                        f"use sources.{source}.password_command instead (e.g. [\"pass\", \"show\", \"{source}\"])")
    kr.set_password(SERVICE, keyring_key(source, username), password)
