-- Protected documents of this instance (docs/DOCUMENTS.md) and the key pairs of its key access service.
--
-- Every document is a whole ZTDF object (manifest, policy with security label, encrypted payload, wrapped
-- keys), kept as the exact JSON text it was created with. The label is copied into indexed columns so the
-- list can pre-filter in SQL; the ZTDF policy stays the authority (the API re-reads the label from it).

CREATE TABLE resources (
    seq                    BIGSERIAL NOT NULL UNIQUE,  -- insertion order: "newest first" and the cursor
    resource_id            TEXT PRIMARY KEY CHECK (resource_id ~ '^[A-Za-z0-9._:-]{1,128}$'),
    title                  TEXT NOT NULL,
    classification         TEXT NOT NULL,              -- canonical: UNCLASSIFIED .. TOP_SECRET
    classification_level   SMALLINT NOT NULL CHECK (classification_level BETWEEN 0 AND 4),
    releasability_to       TEXT[] NOT NULL,
    coi                    TEXT[] NOT NULL DEFAULT '{}',
    coi_operator           TEXT NOT NULL DEFAULT 'ALL' CHECK (coi_operator IN ('ALL', 'ANY')),
    caveats                TEXT[] NOT NULL DEFAULT '{}',
    releasable_to_industry BOOLEAN NOT NULL DEFAULT false,
    originating_country    TEXT NOT NULL,
    display_marking        TEXT NOT NULL,
    owner                  TEXT NOT NULL DEFAULT '',
    source                 TEXT NOT NULL CHECK (source IN ('seed', 'upload')),
    seed_batch             TEXT,                       -- the --seed-random value of a seeded document
    kas_kid                TEXT NOT NULL,              -- the KAS key its data key is wrapped to
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    ztdf                   TEXT NOT NULL               -- the serialized ZTDF object
);
-- The list pre-filter: the caller's country must be in releasabilityTo, the level at most the caller's.
CREATE INDEX resources_releasability ON resources USING gin (releasability_to);
CREATE INDEX resources_level_seq ON resources (classification_level, seq DESC);
CREATE INDEX resources_coi ON resources USING gin (coi);

-- RSA key pairs of the KAS. Exactly one active; retired keys stay for unwrapping older documents.
CREATE TABLE kas_keys (
    kid             TEXT PRIMARY KEY,
    public_pem      TEXT NOT NULL,
    private_key_enc TEXT NOT NULL,   -- identity::encrypt_private_key(pem, kas_key_encryption_key, kid)
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    retired_at      TIMESTAMPTZ
);
CREATE UNIQUE INDEX kas_keys_one_active ON kas_keys ((true)) WHERE retired_at IS NULL;
