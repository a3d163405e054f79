"""Real servers on loopback for the tests: Dovecot (IMAP). Started by the tests themselves.

Adapted from shared/recipes/dovecot-test-server.sh: as root, Dovecot's login process refuses to run,
so the server runs as nobody (setpriv) in a folder nobody owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_banner(port: int, timeout: float = 20) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100):
                    return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"no server on port {port}")


def require(binary: str, install: str) -> None:
    if not (shutil.which(binary) or os.path.exists(binary)):
        if os.environ.get("CI"):
            pytest.fail(f"{binary} is missing in CI: .ci/run must install it ({install})")
        pytest.skip(f"{binary} is not installed: {install} to run these tests")


def make_cert(d: Path) -> Path:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem"), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return d / "cert.pem"


class Dovecot:
    """A Dovecot with user alice/secret; plain IMAP with STARTTLS on ``port``, IMAPS on ``port + 1``."""

    def __init__(self, base: Path) -> None:
        self.dir = base
        self.port = free_port()
        while True:
            self.imaps = free_port()
            if self.imaps != self.port:
                break
        self.user, self.password = "alice", "secret"
        self.maildir = base / "home" / "alice" / "Maildir"
        base.mkdir(parents=True, exist_ok=True)
        self.cert = make_cert(base)
        for sub in ("run", "state", "home/alice/Maildir/cur", "home/alice/Maildir/new", "home/alice/Maildir/tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        run_as = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
        group = "nogroup" if os.geteuid() == 0 else run_as
        (base / "users").write_text(f"alice:{{PLAIN}}secret::::{base}/home/alice\n")
        (base / "dovecot.conf").write_text(f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {run_as}
default_internal_group = {group}
default_login_user = {run_as}
mail_location = maildir:~/Maildir
mail_plugins = $mail_plugins
protocol imap {{
  imap_capability = +CONDSTORE
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/users
  default_fields = uid={run_as} gid={group}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {run_as}
  }}
  unix_listener stats-writer {{
    user = {run_as}
  }}
}}
""")
        cmd = [DOVECOT, "-c", str(base / "dovecot.conf"), "-F"]
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for p in [base, *base.rglob("*")]:
                os.chown(p, nobody.pw_uid, nobody.pw_gid)
            for parent in base.parents:  # pytest's temp folders are 0700 root: let nobody through
                if parent == Path("/"):
                    break
                os.chmod(parent, os.stat(parent).st_mode | 0o011)
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_banner(self.port)

    def configure(self, line: str) -> None:
        """Add a setting and reload the running server (new sessions see it)."""
        conf = self.dir / "dovecot.conf"
        conf.write_text(conf.read_text() + line + "\n")
        cmd = [DOVECOT, "-c", str(conf), "reload"]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
        subprocess.run(cmd, check=True, capture_output=True)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Radicale:
    """Radicale (a CalDAV server) with user alice/secret, no auth delay."""

    def __init__(self, base: Path) -> None:
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.user, self.password = "alice", "secret"
        (base / "users").write_text("alice:secret\n")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{self.port}",
             "--storage-filesystem-folder", str(base / "data"), "--auth-type", "htpasswd",
             "--auth-htpasswd-filename", str(base / "users"), "--auth-htpasswd-encryption", "plain",
             "--auth-delay", "0", "--logging-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_listening(self.proc, self.port, "radicale")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Xandikos:
    """Xandikos (apt `xandikos`), a second, independent CalDAV server; no auth, principal /alice/ with
    a default calendar named "calendar" (see shared/recipes/caldav-servers.sh)."""

    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.user, self.password = "alice", "secret"
        self.proc = subprocess.Popen(
            ["xandikos", "-d", str(base / "data"), "--defaults", "-l", "127.0.0.1", "-p", str(self.port),
             "--current-user-principal", "/alice/"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_listening(self.proc, self.port, "xandikos")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _wait_listening(proc: subprocess.Popen, port: int, name: str, timeout: float = 30) -> None:
    """Until the server started as ``proc`` accepts connections on ``port``; TimeoutError if it
    exits or does not within ``timeout`` seconds."""
    t0 = time.monotonic()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() - t0 > timeout or proc.poll() is not None:
                raise TimeoutError(f"{name} did not start") from None
            time.sleep(0.05)
