-- The federation registry of a hub (docs/FEDERATION.md). Present in every instance's database (one schema
-- for all), used on the hub only: the spokes it knows, the one-time enrollment tokens it handed out, every
-- change to either (audit), and the signed trust bundles it published. Secrets are stored as SHA-256 only.
CREATE TABLE federation_spokes (
  code               TEXT PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
  status             TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'suspended', 'revoked')),
  source             TEXT NOT NULL DEFAULT 'remote' CHECK (source IN ('remote', 'local')),
  name               TEXT NOT NULL DEFAULT '',
  host               TEXT NOT NULL DEFAULT '',
  issuer             TEXT NOT NULL,
  jwks_url           TEXT NOT NULL,
  api_url            TEXT NOT NULL,
  idp_url            TEXT NOT NULL,
  kas_url            TEXT NOT NULL,
  kas_kid            TEXT NOT NULL DEFAULT '',
  kas_public_key     TEXT NOT NULL DEFAULT '',
  ca_pem             TEXT NOT NULL DEFAULT '',
  allowed_countries  TEXT[] NOT NULL,
  trust_level        TEXT NOT NULL DEFAULT 'HIGH',
  max_classification TEXT NOT NULL DEFAULT 'TOP_SECRET',
  credential_hash    TEXT NOT NULL,
  last_heartbeat     TIMESTAMPTZ,
  heartbeat          JSONB NOT NULL DEFAULT '{}',
  bundle_revision    BIGINT NOT NULL DEFAULT 0,
  registered_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  updated_at         TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE federation_enrollment_tokens (
  token_hash         TEXT PRIMARY KEY,
  code               TEXT NOT NULL,
  max_classification TEXT NOT NULL,
  trust_level        TEXT NOT NULL,
  created_by         TEXT NOT NULL,
  created_at         TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  expires_at         TIMESTAMPTZ NOT NULL,
  used_at            TIMESTAMPTZ
);
CREATE INDEX federation_enrollment_tokens_code ON federation_enrollment_tokens (code);

CREATE TABLE federation_audit (
  id          BIGSERIAL PRIMARY KEY,
  at          TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  code        TEXT NOT NULL,
  action      TEXT NOT NULL,
  actor       TEXT NOT NULL,
  from_status TEXT,
  to_status   TEXT,
  detail      JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX federation_audit_code ON federation_audit (code, id);

-- Each revision of the trust bundle as published: the compact JWS (its payload carries the revision).
CREATE TABLE federation_bundles (
  revision   BIGINT PRIMARY KEY,
  jws        TEXT NOT NULL,
  content_sha256 TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
