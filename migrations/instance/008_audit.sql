-- The audit trail (docs/AUDIT.md): one append-only, hash-chained table per instance database. Every process
-- of the instance (api, idp, kas, pdp) and the operator's CLI append through audit_append(), which takes the
-- single head row's lock, so concurrent writers still form ONE linear chain:
--
--   hash(n) = SHA-256( hash(n-1) || SHA-256(canonical(n)) )    hash(0) = the anchor (32 zero bytes at first)
--   canonical(n) = 'DIVE-AUDIT-1' then, for seq, at_ms, type, actor, actor_issuer, source_ip, service,
--                  resource, outcome, reason, request_id, details in this order:
--                  <decimal byte length> ':' <UTF-8 bytes>
--
-- (src/audit/chain.cpp computes the same bytes; `./dive audit verify` recomputes every link.) Services may
-- only EXECUTE audit_append (SECURITY DEFINER): no INSERT, UPDATE or DELETE on the tables; a trigger refuses
-- UPDATE, DELETE and TRUNCATE even to the owner, except the retention's audit_prune(), which removes the
-- oldest records and moves the anchor to the last one it removed, so what remains still verifies.
CREATE TABLE audit_events (
    seq          BIGINT PRIMARY KEY,
    at_ms        BIGINT NOT NULL,            -- when it happened, UTC, ms since the epoch
    type         TEXT NOT NULL,              -- auth.login, access.read, kas.key_request, admin.deploy, ...
    actor        TEXT NOT NULL,              -- uniqueID, username, client id or operator user@host
    actor_issuer TEXT NOT NULL,
    source_ip    TEXT NOT NULL,
    service      TEXT NOT NULL,              -- api, idp, kas, pdp, cli
    resource     TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('allow', 'deny', 'success', 'failure')),
    reason       TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    details      TEXT NOT NULL,              -- a small JSON object, as written (hashed as text)
    prev_hash    BYTEA NOT NULL,
    hash         BYTEA NOT NULL
);
-- Time ranges (BRIN: nearly free per row on an append-only table), who and what.
CREATE INDEX audit_events_at ON audit_events USING brin (at_ms);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_resource ON audit_events (resource, seq) WHERE resource <> '';

-- Exactly one row: the last record written (its lock serialises the writers).
CREATE TABLE audit_head (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       BIGINT NOT NULL,
    hash      BYTEA NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- Exactly one row: where the chain starts now (the last record removed by the retention).
CREATE TABLE audit_anchor (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       BIGINT NOT NULL,
    hash      BYTEA NOT NULL,
    removed   BIGINT NOT NULL DEFAULT 0,     -- records removed by the retention, in all
    pruned_at TIMESTAMPTZ
);
INSERT INTO audit_anchor (seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('dive.audit_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Appends a batch, given as one array per field (all of the same length; NULL elements are ''). Returns the
-- seq of the last record. Arrays rather than JSON: they arrive parsed, so the batch is read once for the
-- digests and once for the INSERT without parsing anything twice. The canonical digests are computed
-- set-based; only the chaining itself (one SHA-256 of 64 bytes per record) runs in the loop.
CREATE FUNCTION audit_append(p_at_ms bigint[], p_type text[], p_actor text[], p_actor_issuer text[],
                             p_source_ip text[], p_service text[], p_resource text[], p_outcome text[],
                             p_reason text[], p_request_id text[], p_details text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n       int := coalesce(array_length(p_at_ms, 1), 0);
  h_seq   bigint;
  h_hash  bytea;
  d       bytea;
  digests bytea[];
  hashes  bytea[];
BEGIN
  IF coalesce(array_length(p_type, 1), 0) <> n OR coalesce(array_length(p_actor, 1), 0) <> n
     OR coalesce(array_length(p_actor_issuer, 1), 0) <> n OR coalesce(array_length(p_source_ip, 1), 0) <> n
     OR coalesce(array_length(p_service, 1), 0) <> n OR coalesce(array_length(p_resource, 1), 0) <> n
     OR coalesce(array_length(p_outcome, 1), 0) <> n OR coalesce(array_length(p_reason, 1), 0) <> n
     OR coalesce(array_length(p_request_id, 1), 0) <> n OR coalesce(array_length(p_details, 1), 0) <> n THEN
    RAISE EXCEPTION 'audit_append: every field array must have the same length' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT seq, hash INTO h_seq, h_hash FROM audit_head WHERE singleton FOR UPDATE;
  IF n = 0 THEN
    RETURN h_seq;
  END IF;
  SELECT array_agg(sha256(convert_to('DIVE-AUDIT-1'
           || octet_length((h_seq + x.i)::text) || ':' || (h_seq + x.i)
           || octet_length(coalesce(x.at_ms, 0)::text) || ':' || coalesce(x.at_ms, 0)
           || octet_length(coalesce(x.type, '')) || ':' || coalesce(x.type, '')
           || octet_length(coalesce(x.actor, '')) || ':' || coalesce(x.actor, '')
           || octet_length(coalesce(x.actor_issuer, '')) || ':' || coalesce(x.actor_issuer, '')
           || octet_length(coalesce(x.source_ip, '')) || ':' || coalesce(x.source_ip, '')
           || octet_length(coalesce(x.service, '')) || ':' || coalesce(x.service, '')
           || octet_length(coalesce(x.resource, '')) || ':' || coalesce(x.resource, '')
           || octet_length(coalesce(x.outcome, '')) || ':' || coalesce(x.outcome, '')
           || octet_length(coalesce(x.reason, '')) || ':' || coalesce(x.reason, '')
           || octet_length(coalesce(x.request_id, '')) || ':' || coalesce(x.request_id, '')
           || octet_length(coalesce(x.details, '{}')) || ':' || coalesce(x.details, '{}'), 'UTF8'))
         ORDER BY x.i)
    INTO digests
    FROM unnest(p_at_ms, p_type, p_actor, p_actor_issuer, p_source_ip, p_service, p_resource, p_outcome,
                p_reason, p_request_id, p_details) WITH ORDINALITY
         AS x(at_ms, type, actor, actor_issuer, source_ip, service, resource, outcome, reason, request_id,
              details, i);
  -- Sequential walks only (FOREACH, array_append, unnest): subscripting an array of bytea in a query walks
  -- it from the start each time, which made a batch quadratic.
  hashes := ARRAY[h_hash];
  FOREACH d IN ARRAY digests LOOP
    h_hash := sha256(h_hash || d);
    hashes := array_append(hashes, h_hash);
  END LOOP;
  INSERT INTO audit_events (seq, at_ms, type, actor, actor_issuer, source_ip, service, resource, outcome,
                            reason, request_id, details, prev_hash, hash)
    SELECT h_seq + x.i, coalesce(x.at_ms, 0), coalesce(x.type, ''), coalesce(x.actor, ''),
           coalesce(x.actor_issuer, ''), coalesce(x.source_ip, ''), coalesce(x.service, ''),
           coalesce(x.resource, ''), coalesce(x.outcome, ''), coalesce(x.reason, ''),
           coalesce(x.request_id, ''), coalesce(x.details, '{}'), x.prev_hash, x.hash
      FROM unnest(p_at_ms, p_type, p_actor, p_actor_issuer, p_source_ip, p_service, p_resource, p_outcome,
                  p_reason, p_request_id, p_details, hashes[1:n], hashes[2:n + 1]) WITH ORDINALITY
           AS x(at_ms, type, actor, actor_issuer, source_ip, service, resource, outcome, reason, request_id,
                details, prev_hash, hash, i);
  UPDATE audit_head SET seq = h_seq + n, hash = h_hash WHERE singleton;
  RETURN h_seq + n;
END $$;

-- Retention: removes at most `max_rows` of the oldest records written more than `retention_days` ago (a
-- prefix of the chain: it stops at the first younger record) and moves the anchor to the last one removed.
-- Returns how many were removed; call again until 0. Each call is one short transaction.
CREATE FUNCTION audit_prune(retention_days integer, max_rows integer DEFAULT 10000) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  a_seq    bigint;
  cutoff   bigint;
  last_seq bigint;
  last_hash bytea;
  n_removed bigint;
BEGIN
  IF retention_days IS NULL OR retention_days < 1 THEN
    RAISE EXCEPTION 'retention_days must be at least 1' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT seq INTO a_seq FROM audit_anchor WHERE singleton FOR UPDATE;
  cutoff := (extract(epoch FROM clock_timestamp()) * 1000)::bigint - retention_days::bigint * 86400000;
  SELECT p.seq, p.hash INTO last_seq, last_hash
    FROM (SELECT e.seq, e.at_ms, e.hash FROM audit_events e WHERE e.seq > a_seq ORDER BY e.seq
          LIMIT greatest(max_rows, 1)) p
   WHERE p.seq < coalesce((SELECT min(q.seq) FROM (SELECT e.seq, e.at_ms FROM audit_events e
                                                    WHERE e.seq > a_seq ORDER BY e.seq
                                                    LIMIT greatest(max_rows, 1)) q
                            WHERE q.at_ms >= cutoff), 9223372036854775807)
   ORDER BY p.seq DESC LIMIT 1;
  IF last_seq IS NULL THEN
    RETURN 0;
  END IF;
  PERFORM set_config('dive.audit_prune', 'on', true);
  DELETE FROM audit_events WHERE seq > a_seq AND seq <= last_seq;
  GET DIAGNOSTICS n_removed = ROW_COUNT;
  PERFORM set_config('dive.audit_prune', 'off', true);
  UPDATE audit_anchor SET seq = last_seq, hash = last_hash, removed = audit_anchor.removed + n_removed,
         pruned_at = clock_timestamp() WHERE singleton;
  RETURN n_removed;
END $$;

REVOKE ALL ON FUNCTION audit_append(bigint[], text[], text[], text[], text[], text[], text[], text[], text[], text[],
                                    text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_prune(integer, integer) FROM PUBLIC;

-- The pdp's decisions are records of this trail now (type policy.decision): its own table goes.
DROP TABLE decisions;
