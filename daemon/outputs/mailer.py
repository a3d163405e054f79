"""Sending the digest over SMTP, with a verifying TLS context (smtplib verifies nothing without one)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from connectors.neterror import describe
from daemon.config import DigestConfig
from daemon.errors import OutputError
from daemon.secrets import get_password

TIMEOUT = 60


def send(cfg: DigestConfig, msg: EmailMessage) -> None:
    """Send ``msg`` to ``cfg.to``. Raises OutputError with the remedy on any failure."""
    host, port, to = cfg.smtp_host, cfg.smtp_port, cfg.to
    if host is None or port is None or to is None:  # config.parse already refuses a host without these
        raise OutputError("sending the digest needs outputs.digest.smtp_host, smtp_port and to",
                          "set all three in the config")
    where = f"{host}:{port}"
    ctx = ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)
    login = (cfg.username, get_password("digest", cfg.username, cfg.password_command)) if cfg.username else None
    try:
        server: smtplib.SMTP
        if cfg.smtp_tls == "ssl":
            server = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=ctx)
        else:
            server = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with server:
            if cfg.smtp_tls == "starttls":
                server.starttls(context=ctx)
            if login:
                server.login(*login)
            server.send_message(msg, from_addr=cfg.sender or to, to_addrs=[to])
    except smtplib.SMTPAuthenticationError:
        raise OutputError(f"the mail server {where} refused the username or password",
                          "fix outputs.digest.password_command or run `tiekeeper auth password digest`") from None
    except ssl.SSLCertVerificationError as e:
        raise OutputError(f"the mail server {where} presented a certificate that is not trusted ({e.verify_message})",
                          "if you trust it, set outputs.digest.ca_file to its certificate") from None
    except smtplib.SMTPNotSupportedError:
        raise OutputError(f"the mail server {where} does not offer STARTTLS", "set smtp_tls = \"ssl\" or check the port") from None
    except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as e:
        told = describe(e, where, "outputs.digest.ca_file", "outputs.digest.smtp_host and smtp_port")
        if told:  # refused, DNS, TLS, timeout: one line with the host and the remedy, no library repr
            raise OutputError(f"sending the digest: {told[0]}", f"{told[1]}; it is tried again at the next run") from None
        raise OutputError(f"sending the digest through {where} failed: {e}", "it is tried again at the next run") from None
