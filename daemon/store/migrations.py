"""Schema migrations, applied in order; ``PRAGMA user_version`` holds how many have run.

A migration is a script of statements split at semicolons, or a tuple of statements (for
triggers, whose bodies hold semicolons)."""

MIGRATIONS: list[str | tuple[str, ...]] = [
    # 1: the first schema
    """
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        cursor TEXT,
        records INTEGER NOT NULL DEFAULT 0,
        last_sync REAL,
        last_error TEXT,
        failures INTEGER NOT NULL DEFAULT 0
    );
    -- Raw metadata as the connectors returned it: the ground truth everything else derives from.
    CREATE TABLE records (
        source TEXT NOT NULL,
        ident TEXT NOT NULL,
        etag TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        inferred TEXT,              -- the inference version the interactions below were made by
        PRIMARY KEY (source, ident)
    ) WITHOUT ROWID;
    CREATE INDEX records_kind ON records(kind, inferred);
    -- Derived from mail records, rebuildable: dropped when the record changes or inference does.
    CREATE TABLE interactions (
        source TEXT NOT NULL,
        ident TEXT NOT NULL,
        ts REAL NOT NULL,
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        name TEXT NOT NULL,
        direction TEXT NOT NULL,
        weight REAL NOT NULL,
        initiator TEXT NOT NULL,
        thread TEXT NOT NULL,
        message_id TEXT NOT NULL,
        in_reply_to TEXT NOT NULL,
        account TEXT NOT NULL,
        fanout INTEGER NOT NULL,
        hint TEXT NOT NULL,
        recurring INTEGER NOT NULL
    );
    CREATE INDEX interactions_record ON interactions(source, ident);
    CREATE TABLE drops (
        source TEXT NOT NULL,
        ident TEXT NOT NULL,
        address TEXT NOT NULL,
        rule TEXT NOT NULL,
        PRIMARY KEY (source, ident)
    ) WITHOUT ROWID;
    CREATE INDEX drops_address ON drops(address);
    -- Follow-up events as last published: stable UIDs and SEQUENCE numbers.
    CREATE TABLE followups (
        uid TEXT PRIMARY KEY,
        contact TEXT NOT NULL,
        cycle TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        status TEXT NOT NULL,       -- CONFIRMED | CANCELLED
        start REAL NOT NULL,
        end REAL NOT NULL,
        summary TEXT NOT NULL,
        description TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        updated REAL NOT NULL
    );
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: contacts as the last analysis saw them (for status, history and the digest)
    """
    CREATE TABLE contacts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        emails TEXT NOT NULL,       -- JSON list, most recently used first
        relationship TEXT NOT NULL,
        expected_gap_days REAL NOT NULL,
        last_two_way REAL,
        flags TEXT NOT NULL,        -- JSON list of {kind, pattern, why}
        analysed_as_of REAL NOT NULL
    ) WITHOUT ROWID;
    """,
    # 3: the service's job state, so a restart or a sleep catches up once instead of forgetting
    """
    CREATE TABLE jobs (
        name TEXT PRIMARY KEY,
        last_attempt REAL,
        last_success REAL,
        next_due REAL,
        failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        period TEXT               -- the last period done (the digest: the scheduled time it covered)
    ) WITHOUT ROWID;
    """,
    # 4: what the user said about contacts: snooze until, ignore, an offline contact logged
    """
    CREATE TABLE actions (
        address TEXT NOT NULL,      -- normalised; matched by merge key to the person
        kind TEXT NOT NULL,         -- snooze | ignore | log
        ts REAL NOT NULL,           -- log: when the contact happened; snooze: until when
        note TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL
    );
    """,
    # 5: follow-up events as each remote calendar (CalDAV, Google) last accepted them
    """
    CREATE TABLE published (
        target TEXT NOT NULL,       -- "caldav:SOURCE:CALENDAR-URL" or "google:SOURCE:CALENDAR-ID"
        uid TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        remote_id TEXT NOT NULL,    -- the resource href (CalDAV) or event id (Google)
        PRIMARY KEY (target, uid)
    ) WITHOUT ROWID;
    """,
    # 6: interactions as columns for the analysis (daemon/store/columns.py). Row ids become an
    # INTEGER PRIMARY KEY AUTOINCREMENT: VACUUM keeps them, and a new row never takes the id of an
    # old one, so a segment's range only loses rows, and the triggers drop it when it does.
    (
        """CREATE TABLE interactions_v6 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source TEXT NOT NULL, ident TEXT NOT NULL, ts REAL NOT NULL, channel TEXT NOT NULL,
            address TEXT NOT NULL, name TEXT NOT NULL, direction TEXT NOT NULL, weight REAL NOT NULL,
            initiator TEXT NOT NULL, thread TEXT NOT NULL, message_id TEXT NOT NULL, in_reply_to TEXT NOT NULL,
            account TEXT NOT NULL, fanout INTEGER NOT NULL, hint TEXT NOT NULL, recurring INTEGER NOT NULL)""",
        """INSERT INTO interactions_v6(source, ident, ts, channel, address, name, direction, weight, initiator,
            thread, message_id, in_reply_to, account, fanout, hint, recurring)
            SELECT source, ident, ts, channel, address, name, direction, weight, initiator, thread, message_id,
            in_reply_to, account, fanout, hint, recurring FROM interactions ORDER BY rowid""",
        "DROP TABLE interactions",
        "ALTER TABLE interactions_v6 RENAME TO interactions",
        "CREATE INDEX interactions_record ON interactions(source, ident)",
        """CREATE TABLE interaction_segments (
            first INTEGER PRIMARY KEY,  -- the rows with ids first..last, as columns
            last INTEGER NOT NULL,
            rows INTEGER NOT NULL,
            max_ts REAL NOT NULL,
            data BLOB NOT NULL)""",
        """CREATE TRIGGER interaction_segments_delete AFTER DELETE ON interactions BEGIN
            DELETE FROM interaction_segments WHERE last >= old.id
                AND first = (SELECT max(first) FROM interaction_segments WHERE first <= old.id);
        END""",
        """CREATE TRIGGER interaction_segments_update AFTER UPDATE ON interactions BEGIN
            DELETE FROM interaction_segments WHERE last >= old.id
                AND first = (SELECT max(first) FROM interaction_segments WHERE first <= old.id);
            DELETE FROM interaction_segments WHERE last >= new.id
                AND first = (SELECT max(first) FROM interaction_segments WHERE first <= new.id);
        END""",
        """CREATE TRIGGER interaction_segments_insert AFTER INSERT ON interactions
            WHEN new.id <= (SELECT last FROM interaction_segments ORDER BY first DESC LIMIT 1) BEGIN
            DELETE FROM interaction_segments WHERE last >= new.id
                AND first = (SELECT max(first) FROM interaction_segments WHERE first <= new.id);
        END""",
    ),
    # 7: every digest sent, whoever sent it (the service, `run --once`, `digest --send`): the one record
    # that "is a digest due" reads, so no trigger sends a second one for the same period
    """
    CREATE TABLE digest_sends (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        period TEXT NOT NULL,       -- the start of the weekly period it was sent for (ISO, local time)
        sent_at REAL NOT NULL,
        trigger TEXT NOT NULL,      -- service | run --once | digest --send | digest --send --force
        recipient TEXT NOT NULL,
        message_id TEXT NOT NULL
    );
    """,
    # 8: the etag of each follow-up as tiekeeper last saw it in its remote calendar, and whose it is
    # (daemon/outputs/publish.py): rows from before keep their data and are taken as tiekeeper's own
    """
    ALTER TABLE published ADD COLUMN etag TEXT NOT NULL DEFAULT '';
    ALTER TABLE published ADD COLUMN state TEXT NOT NULL DEFAULT 'ours';  -- ours | edited | dismissed
    """,
]
