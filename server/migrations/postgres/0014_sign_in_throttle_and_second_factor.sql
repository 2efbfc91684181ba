-- The same as sqlite/0014 (the columns are explained there).
DROP TABLE admin_sign_in_failures;

CREATE TABLE admin_sign_in_attempts (
    user_name     TEXT    NOT NULL,
    client        TEXT    NOT NULL,
    failures      BIGINT  NOT NULL,
    last_at       BIGINT  NOT NULL,
    next_at       BIGINT  NOT NULL,
    PRIMARY KEY (user_name, client)
);
CREATE INDEX admin_sign_in_attempts_age ON admin_sign_in_attempts (last_at);

CREATE TABLE admin_second_factors (
    user_name     TEXT    PRIMARY KEY,
    secret        TEXT    NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE admin_recovery_codes (
    user_name     TEXT    NOT NULL,
    code_digest   TEXT    NOT NULL,
    used_at       BIGINT,
    PRIMARY KEY (user_name, code_digest)
);

ALTER TABLE admin_sessions ADD COLUMN second_factor BIGINT NOT NULL DEFAULT 0;
DELETE FROM admin_sessions;
