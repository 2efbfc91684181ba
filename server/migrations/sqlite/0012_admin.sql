-- The merchant's console (issue 21): people signed in, failed sign-ins (the lockout), and what
-- people did to orders, each with who and when.

-- A session is a random id in an HttpOnly cookie; only its SHA-256 is stored, so a copy of the
-- database signs nobody in. It ends at `expires_at` (absolute) or after idling (last_seen_at).
CREATE TABLE admin_sessions (
    id_digest     TEXT    PRIMARY KEY,
    user_name     TEXT    NOT NULL,
    role          TEXT    NOT NULL,             -- viewer | operator
    credential    TEXT    NOT NULL,             -- SHA-256 of the password hash signed in with:
                                                -- a new password in ADMIN_USERS ends the session
    csrf          TEXT    NOT NULL,             -- sent back in X-CSRF-Token on every change
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);

-- Failed sign-ins per name (known or not, so a lockout does not say which names exist).
CREATE TABLE admin_sign_in_failures (
    user_name     TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_at       INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL DEFAULT 0
);

-- What a person did: refund, capture, cancel, resend, resolve_review. Written in the
-- transaction of the change it records.
CREATE TABLE admin_actions (
    id            INTEGER PRIMARY KEY,
    order_id      INTEGER REFERENCES orders (id),
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    decision      TEXT,                         -- resolve_review: paid | failed | refund
    checked       TEXT,                         -- resolve_review: what the person looked at
    note          TEXT,
    operation_id  INTEGER REFERENCES operations (id),
    event_id      TEXT,                         -- resend: the event sent again
    at            INTEGER NOT NULL
);
CREATE INDEX admin_actions_order ON admin_actions (order_id, id);
