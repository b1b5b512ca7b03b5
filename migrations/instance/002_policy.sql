-- Policy data bundles of this instance's pdp (every revision kept, one active) and its decision log.

CREATE TABLE policy_bundles (
    revision   TEXT PRIMARY KEY,            -- SHA-256 hex of the canonical JSON of the bundle
    content    JSONB NOT NULL,
    source     TEXT NOT NULL,               -- "deployment", "file:<name>", ...
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Exactly one row: the revision the pdp serves.
CREATE TABLE policy_bundle_active (
    singleton    BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    revision     TEXT NOT NULL REFERENCES policy_bundles (revision),
    activated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per decision (the batch endpoint writes one per input). No input values: their hash only.
-- Append-only and time-ordered: a BRIN index on the time costs almost nothing per row, unlike a B-tree.
CREATE TABLE decisions (
    id              BIGSERIAL PRIMARY KEY,
    decided_at      TIMESTAMPTZ NOT NULL,
    request_id      TEXT,
    query           TEXT NOT NULL,          -- decision | allow | reason | batch
    input_hash      BYTEA NOT NULL,         -- SHA-256 of the request body as received
    allow           BOOLEAN NOT NULL,
    reason          TEXT NOT NULL,
    latency_us      INTEGER NOT NULL,
    bundle_revision TEXT NOT NULL
);
CREATE INDEX decisions_decided_at ON decisions USING brin (decided_at);
