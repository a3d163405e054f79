"""Helpers that put mail into the test Dovecot through IMAP itself (APPEND, EXPUNGE)."""

from __future__ import annotations

import ssl

import imapclient

from connectors.imap import ImapConnector


def admin(server) -> imapclient.IMAPClient:
    c = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=30)
    c.starttls(ssl.create_default_context(cafile=str(server.cert)))
    c.login(server.user, server.password)
    return c


def reset(server) -> None:
    """An empty mailbox: only INBOX, with nothing in it."""
    c = admin(server)
    for _, _, name in c.list_folders():
        if name != "INBOX":
            c.delete_folder(name)
    c.select_folder("INBOX")
    uids = c.search("ALL")
    if uids:
        c.delete_messages(uids)
        c.expunge()
    c.logout()


def append(server, folder: str, raw: bytes) -> None:
    c = admin(server)
    if folder != "INBOX" and not c.folder_exists(folder):
        c.create_folder(folder)
    c.append(folder, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    c.logout()


def delete_by_message_id(server, folder: str, message_id: str) -> None:
    c = admin(server)
    c.select_folder(folder)
    uids = c.search(["HEADER", "Message-ID", message_id])
    c.delete_messages(uids)
    c.expunge()
    c.logout()


def connector(server, name: str = "src", **kwargs) -> ImapConnector:
    return ImapConnector(name, "127.0.0.1", kwargs.pop("port", server.port), kwargs.pop("tls", "starttls"),
                         server.user, kwargs.pop("password", server.password), ca_file=kwargs.pop("ca_file", server.cert),
                         **kwargs)
