-- Issue 29: failed sign-ins slow down the next attempts for one name from one client address
-- (never a lock a stranger can put on someone else), and operators sign in with a second
-- factor (TOTP) enrolled in the console.

-- Replaces admin_sign_in_failures (one lock per name, which anyone could set).
DROP TABLE admin_sign_in_failures;

-- Attempts that did not end in a sign-in, per (name as typed, client address bucket): an
-- attempt is counted before its password is checked, and the row goes when that name signs
-- in from that address. Maintenance deletes rows idle for longer than the window.
CREATE TABLE admin_sign_in_attempts (
    user_name     TEXT    NOT NULL,
    client        TEXT    NOT NULL,             -- an IPv4 address or an IPv6 /64
    failures      INTEGER NOT NULL,
    last_at       INTEGER NOT NULL,             -- unix seconds of the latest attempt
    next_at       INTEGER NOT NULL,             -- no attempt is checked before this
    PRIMARY KEY (user_name, client)
);
CREATE INDEX admin_sign_in_attempts_age ON admin_sign_in_attempts (last_at);

-- One TOTP secret per person (RFC 6238: SHA-1, 6 digits, 30 s). Pending until a code from it
-- is confirmed; `last_step` is the newest time step used, so a code works once.
CREATE TABLE admin_second_factors (
    user_name     TEXT    PRIMARY KEY,
    secret        TEXT    NOT NULL,             -- base32
    confirmed_at  INTEGER,                      -- NULL: being enrolled
    last_step     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- One-time recovery codes: only their SHA-256 (each is 50 random bits).
CREATE TABLE admin_recovery_codes (
    user_name     TEXT    NOT NULL,
    code_digest   TEXT    NOT NULL,
    used_at       INTEGER,
    PRIMARY KEY (user_name, code_digest)
);

-- Whether the session was signed in with a second factor (or enrolled one). An operator's
-- session without one may only enrol one while ADMIN_REQUIRE_2FA is on, whatever the role
-- or the setting was at sign-in. The sessions made before this migration end: everyone signs
-- in again, through the new rules.
ALTER TABLE admin_sessions ADD COLUMN second_factor INTEGER NOT NULL DEFAULT 0;
DELETE FROM admin_sessions;
