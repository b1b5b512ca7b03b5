-- The identity provider of this instance (docs/IDP.md): realm users, OIDC clients, signing keys,
-- authorization codes and refresh tokens. No secret is stored in clear: passwords are argon2id hashes,
-- client secrets, codes and refresh tokens SHA-256 hashes, private keys and TOTP seeds AES-256-GCM
-- ciphertexts under secrets.json's idp_key_encryption_key.

CREATE TABLE idp_users (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),  -- the token's "sub"
    username           TEXT NOT NULL UNIQUE CHECK (username = lower(username) AND username <> ''),
    unique_id          TEXT NOT NULL,                 -- uniqueID claim (= username for seeded users)
    email              TEXT NOT NULL DEFAULT '',
    first_name         TEXT NOT NULL DEFAULT '',
    last_name          TEXT NOT NULL DEFAULT '',
    clearance          TEXT NOT NULL,
    country            TEXT NOT NULL,                 -- countryOfAffiliation (ISO 3166 alpha-3)
    acp_coi            JSONB NOT NULL DEFAULT '[]',   -- array of strings
    organization_type  TEXT NOT NULL DEFAULT 'GOV',
    duty_org           TEXT NOT NULL DEFAULT '',
    org_unit           TEXT NOT NULL DEFAULT '',
    roles              JSONB NOT NULL DEFAULT '["user"]',
    enabled            BOOLEAN NOT NULL DEFAULT true,
    password_hash      TEXT NOT NULL,                 -- argon2id PHC string ($argon2id$v=19$m=..,t=..,p=..$salt$hash)
    password_changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    totp_secret_enc    TEXT,                          -- AES-256-GCM of the RFC 6238 seed; NULL: no TOTP enrolled
    totp_last_step     BIGINT,                        -- last accepted time step (no replay)
    failed_logins      INTEGER NOT NULL DEFAULT 0,
    last_failure_at    TIMESTAMPTZ,
    locked_until       TIMESTAMPTZ,
    source             TEXT NOT NULL DEFAULT 'seed',
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE idp_clients (
    client_id        TEXT PRIMARY KEY,
    confidential     BOOLEAN NOT NULL,
    secret_sha256    TEXT,                            -- hex SHA-256 of the secret; NULL for public clients
    grant_types      JSONB NOT NULL,                  -- array of grant type names
    redirect_uris    JSONB NOT NULL DEFAULT '[]',     -- exact URIs, or a prefix ending in "/*"
    post_logout_redirect_uris JSONB NOT NULL DEFAULT '[]',
    may_introspect   BOOLEAN NOT NULL DEFAULT false,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (confidential = (secret_sha256 IS NOT NULL))
);

-- RS256 signing keys. Exactly one active (retired_at IS NULL); a retired key keeps only its public half
-- and stays in the JWKS until every token it signed has expired.
CREATE TABLE idp_signing_keys (
    kid             TEXT PRIMARY KEY,                 -- RFC 7638 thumbprint
    alg             TEXT NOT NULL DEFAULT 'RS256',
    public_pem      TEXT NOT NULL,
    private_key_enc TEXT,                             -- encrypt_private_key(pem, kek, kid); NULL once retired
    created_at      TIMESTAMPTZ NOT NULL,
    retired_at      TIMESTAMPTZ,
    CHECK ((retired_at IS NULL) = (private_key_enc IS NOT NULL))
);
CREATE UNIQUE INDEX idp_signing_keys_one_active ON idp_signing_keys ((true)) WHERE retired_at IS NULL;

-- Authorization codes (single use, 60 s, bound to client, redirect URI and PKCE challenge).
CREATE TABLE idp_auth_codes (
    code_sha256     TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    user_id         UUID NOT NULL REFERENCES idp_users (id) ON DELETE CASCADE,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,                    -- S256
    nonce           TEXT,
    scope           TEXT NOT NULL,
    auth_time       BIGINT NOT NULL,                  -- seconds since the epoch
    amr             JSONB NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ,
    family_id       UUID                              -- the refresh-token family issued for it
);
CREATE INDEX idp_auth_codes_expires ON idp_auth_codes (expires_at);

-- Refresh tokens: opaque, stored hashed, rotated on every use. All tokens descending from one login form a
-- family; presenting a rotated token again revokes the whole family (reuse detection).
CREATE TABLE idp_refresh_tokens (
    token_sha256    TEXT PRIMARY KEY,
    family_id       UUID NOT NULL,
    user_id         UUID NOT NULL REFERENCES idp_users (id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,
    scope           TEXT NOT NULL,
    auth_time       BIGINT NOT NULL,
    amr             JSONB NOT NULL,
    session_started_at TIMESTAMPTZ NOT NULL,           -- the login; a family never outlives session_max
    issued_at       TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    rotated_at      TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ,
    revoke_reason   TEXT,
    access_jti      TEXT,                             -- the access token issued with it (revoked with it)
    access_exp      BIGINT
);
CREATE INDEX idp_refresh_tokens_family ON idp_refresh_tokens (family_id);
CREATE INDEX idp_refresh_tokens_user ON idp_refresh_tokens (user_id);
CREATE INDEX idp_refresh_tokens_expires ON idp_refresh_tokens (expires_at);
