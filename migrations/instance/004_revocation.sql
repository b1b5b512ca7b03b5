-- Revocations this instance made while the shared blacklist Redis was unreachable (docs/REVOCATION.md).
-- Every api/idp process of the instance applies these rows to its mirror and pushes them to the blacklist
-- when it is back, then deletes them. Pushing is idempotent, so a row pushed twice does no harm.
CREATE TABLE revocation_outbox (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('token', 'user')),
    subject       TEXT NOT NULL CHECK (subject <> ''),  -- jti or uniqueID
    value         BIGINT NOT NULL,                      -- token: exp (s); user: threshold (ms)
    revoked_at_ms BIGINT NOT NULL,
    instance      TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
