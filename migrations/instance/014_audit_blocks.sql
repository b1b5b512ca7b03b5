-- The audit trail in blocks (docs/AUDIT.md "Blocks"): from this migration on, a batch of records is stored as
-- ONE row of arrays instead of one row per record. A record as a row cost the database a heap tuple, a
-- primary-key entry, a BRIN update and ~415 bytes of WAL, then two index entries when its partition was
-- sealed; 100,000 records took 178–221 ms and 83 MB of WAL as rows, 22–28 ms and 4 MB as 100 blocks (run
-- 10), and the whole append from the writer 4.2 → 2.6 ms a batch of 1,000 (docs/PERFORMANCE.md "Audit trail",
-- run 11). The chain itself does not change: the same seq numbers, hashes, head and anchor.
--
--   * audit_blocks: records lo..hi, as one append wrote them; at_lo/at_hi their earliest and latest time;
--     prev_hash the hash of record lo - 1; then one array per field and the records' hashes (element i is
--     record lo + i - 1); `types` the block's distinct types. The arrays are compressed with lz4 (with
--     TOAST's default pglz a block is no cheaper than rows).
--   * GIN indexes on the actor and resource arrays, maintained as blocks arrive, find the blocks holding
--     one actor or one resource: nothing is left to seal.
--   * the records written before stay where they are, in audit_events: its partitions are all sealed here
--     (the open one gets its indexes now and ends at the head, the empty ones attached ahead are dropped)
--     and the head no longer attaches new ones. Every reader (src/audit/pg_store.cpp) reads both: every
--     row's seq is lower than every block's.
--   * audit_append() and audit_append_chained() keep their signatures and write blocks: a process of the
--     previous version, still serving while an upgrade replaces the services one at a time, appends blocks
--     to the same chain under the same lock.
--   * the retention removes the remaining rows first, then whole blocks whose records are all older than
--     the retention (a block usually spans well under a second of records); the anchor is the last record
--     removed.
--
-- former checksum (comments changed only): 7d37051f38d5c70dc0dd5233dce26231db8f4c69922aed7b6fdf63794f051543

-- Writers out while the storage changes: an append takes the head's lock first.
SELECT 1 FROM audit_head WHERE singleton FOR UPDATE;

CREATE TABLE audit_blocks (
    lo           BIGINT PRIMARY KEY CHECK (lo >= 1),
    hi           BIGINT NOT NULL,
    at_lo        BIGINT NOT NULL,
    at_hi        BIGINT NOT NULL,
    prev_hash    BYTEA NOT NULL CHECK (octet_length(prev_hash) = 32),
    types        TEXT[] NOT NULL,
    at_ms        BIGINT[] COMPRESSION lz4 NOT NULL,
    type         TEXT[] COMPRESSION lz4 NOT NULL,
    actor        TEXT[] COMPRESSION lz4 NOT NULL,
    actor_issuer TEXT[] COMPRESSION lz4 NOT NULL,
    source_ip    TEXT[] COMPRESSION lz4 NOT NULL,
    service      TEXT[] COMPRESSION lz4 NOT NULL,
    resource     TEXT[] COMPRESSION lz4 NOT NULL,
    outcome      TEXT[] COMPRESSION lz4 NOT NULL,
    reason       TEXT[] COMPRESSION lz4 NOT NULL,
    request_id   TEXT[] COMPRESSION lz4 NOT NULL,
    details      TEXT[] COMPRESSION lz4 NOT NULL,
    hash         BYTEA[] COMPRESSION lz4 NOT NULL,
    -- One element per record in every array, one-dimensional, from subscript 1, no NULL anywhere.
    CONSTRAINT audit_blocks_shape CHECK (
        hi >= lo AND at_hi >= at_lo
        AND array_ndims(hash) = 1 AND array_lower(hash, 1) = 1 AND cardinality(hash) = hi - lo + 1
        AND cardinality(at_ms) = hi - lo + 1 AND cardinality(type) = hi - lo + 1
        AND cardinality(actor) = hi - lo + 1 AND cardinality(actor_issuer) = hi - lo + 1
        AND cardinality(source_ip) = hi - lo + 1 AND cardinality(service) = hi - lo + 1
        AND cardinality(resource) = hi - lo + 1 AND cardinality(outcome) = hi - lo + 1
        AND cardinality(reason) = hi - lo + 1 AND cardinality(request_id) = hi - lo + 1
        AND cardinality(details) = hi - lo + 1),
    CONSTRAINT audit_blocks_no_nulls CHECK (
        array_position(at_ms, NULL) IS NULL AND array_position(type, NULL) IS NULL
        AND array_position(actor, NULL) IS NULL AND array_position(actor_issuer, NULL) IS NULL
        AND array_position(source_ip, NULL) IS NULL AND array_position(service, NULL) IS NULL
        AND array_position(resource, NULL) IS NULL AND array_position(outcome, NULL) IS NULL
        AND array_position(reason, NULL) IS NULL AND array_position(request_id, NULL) IS NULL
        AND array_position(details, NULL) IS NULL AND array_position(hash, NULL) IS NULL),
    CONSTRAINT audit_blocks_outcome_check CHECK (outcome <@ ARRAY['allow', 'deny', 'success', 'failure'])
);
-- No planner statistics on the arrays: an ANALYZE would detoast every sampled block (up to 30,000 of them,
-- each ~1,000 records) and count its elements, over and over as autovacuum's threshold grows with the table,
-- and no query needs them (the primary key and the GIN indexes answer). ANALYZE samples lo, hi and the times.
ALTER TABLE audit_blocks
    ALTER COLUMN prev_hash SET STATISTICS 0, ALTER COLUMN types SET STATISTICS 0,
    ALTER COLUMN at_ms SET STATISTICS 0, ALTER COLUMN type SET STATISTICS 0, ALTER COLUMN actor SET STATISTICS 0,
    ALTER COLUMN actor_issuer SET STATISTICS 0, ALTER COLUMN source_ip SET STATISTICS 0,
    ALTER COLUMN service SET STATISTICS 0, ALTER COLUMN resource SET STATISTICS 0,
    ALTER COLUMN outcome SET STATISTICS 0, ALTER COLUMN reason SET STATISTICS 0,
    ALTER COLUMN request_id SET STATISTICS 0, ALTER COLUMN details SET STATISTICS 0,
    ALTER COLUMN hash SET STATISTICS 0;
CREATE INDEX audit_blocks_actor ON audit_blocks USING gin (actor);
CREATE INDEX audit_blocks_resource ON audit_blocks USING gin (resource);
CREATE TRIGGER audit_blocks_append_only BEFORE UPDATE OR DELETE ON audit_blocks
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_blocks_no_truncate BEFORE TRUNCATE ON audit_blocks
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- The rows are done: no partition is attached ahead any more, the empty ones go, the others are sealed as
-- audit_seal() would (which, with nothing left to seal, returns NULL from now on).
DROP TRIGGER audit_head_extend ON audit_head;
DROP FUNCTION audit_head_moved();
DROP FUNCTION audit_extend(bigint);
DO $$
DECLARE
  p audit_partitions%ROWTYPE;
  h bigint;
BEGIN
  SELECT seq INTO h FROM audit_head WHERE singleton;
  FOR p IN SELECT * FROM audit_partitions WHERE sealed_at IS NULL ORDER BY lo LOOP
    IF p.lo > h THEN
      EXECUTE format('DROP TABLE %I', p.relname);
      DELETE FROM audit_partitions WHERE relname = p.relname;
    ELSE
      IF p.hi > h + 1 THEN
        -- The open one ends at the head now, so the retention drops it as soon as it has emptied it.
        EXECUTE format('ALTER TABLE audit_events DETACH PARTITION %I', p.relname);
        EXECUTE format('ALTER TABLE audit_events ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', p.relname,
                       p.lo, h + 1);
        UPDATE audit_partitions SET hi = h + 1 WHERE relname = p.relname;
      END IF;
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (hashtext(actor), seq)', p.relname || '_actor',
                     p.relname);
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (hashtext(resource), seq) WHERE resource <> %L',
                     p.relname || '_resource', p.relname, '');
      EXECUTE format('ANALYZE %I', p.relname);
      EXECUTE format('ALTER TABLE %I RESET (autovacuum_enabled)', p.relname);
      UPDATE audit_partitions SET sealed_at = clock_timestamp() WHERE relname = p.relname;
    END IF;
  END LOOP;
END $$;

-- Writes one block: the records after (p_lo - 1, p_prev) with their hashes. Called under the head's lock by
-- the two appends below, which checked the arrays' lengths; the table's constraints check the rest.
CREATE FUNCTION audit_insert_block(p_lo bigint, p_prev bytea, p_at_ms bigint[], p_type text[], p_actor text[],
                                   p_actor_issuer text[], p_source_ip text[], p_service text[],
                                   p_resource text[], p_outcome text[], p_reason text[], p_request_id text[],
                                   p_details text[], p_hash bytea[]) RETURNS void
LANGUAGE sql SET search_path = public, pg_temp AS $$
  INSERT INTO audit_blocks (lo, hi, at_lo, at_hi, prev_hash, types, at_ms, type, actor, actor_issuer,
                            source_ip, service, resource, outcome, reason, request_id, details, hash)
    SELECT p_lo, p_lo + cardinality(p_hash) - 1, t.lo, t.hi, p_prev,
           ARRAY(SELECT DISTINCT x FROM unnest(p_type) AS x ORDER BY x), p_at_ms, p_type, p_actor,
           p_actor_issuer, p_source_ip, p_service, p_resource, p_outcome, p_reason, p_request_id, p_details,
           p_hash
      FROM (SELECT min(x) AS lo, max(x) AS hi FROM unnest(p_at_ms) AS x) t
$$;

-- An array with NULL elements replaced by `fill`, in order.
CREATE FUNCTION audit_fill_nulls(a text[], fill text) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
  SELECT coalesce(array_agg(coalesce(x.v, fill) ORDER BY x.i), '{}') FROM unnest(a) WITH ORDINALITY AS x(v, i)
$$;

-- Migration 008's append (the database hashes; a writer with a stale head and the CLI come here), writing a
-- block. NULL elements are stored and hashed as '' ('{}' for details, 0 for at_ms), as before.
CREATE OR REPLACE FUNCTION audit_append(p_at_ms bigint[], p_type text[], p_actor text[], p_actor_issuer text[],
                                        p_source_ip text[], p_service text[], p_resource text[],
                                        p_outcome text[], p_reason text[], p_request_id text[],
                                        p_details text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n       int := coalesce(array_length(p_at_ms, 1), 0);
  h_seq   bigint;
  h_hash  bytea;
  first   bytea;
  d       bytea;
  digests bytea[];
  hashes  bytea[] := '{}';
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
  p_at_ms := (SELECT array_agg(coalesce(x.v, 0) ORDER BY x.i) FROM unnest(p_at_ms) WITH ORDINALITY AS x(v, i));
  p_type := audit_fill_nulls(p_type, '');
  p_actor := audit_fill_nulls(p_actor, '');
  p_actor_issuer := audit_fill_nulls(p_actor_issuer, '');
  p_source_ip := audit_fill_nulls(p_source_ip, '');
  p_service := audit_fill_nulls(p_service, '');
  p_resource := audit_fill_nulls(p_resource, '');
  p_outcome := audit_fill_nulls(p_outcome, '');
  p_reason := audit_fill_nulls(p_reason, '');
  p_request_id := audit_fill_nulls(p_request_id, '');
  p_details := audit_fill_nulls(p_details, '{}');
  SELECT array_agg(sha256(convert_to('DIVE-AUDIT-1'
           || octet_length((h_seq + x.i)::text) || ':' || (h_seq + x.i)
           || octet_length(x.at_ms::text) || ':' || x.at_ms
           || octet_length(x.type) || ':' || x.type
           || octet_length(x.actor) || ':' || x.actor
           || octet_length(x.actor_issuer) || ':' || x.actor_issuer
           || octet_length(x.source_ip) || ':' || x.source_ip
           || octet_length(x.service) || ':' || x.service
           || octet_length(x.resource) || ':' || x.resource
           || octet_length(x.outcome) || ':' || x.outcome
           || octet_length(x.reason) || ':' || x.reason
           || octet_length(x.request_id) || ':' || x.request_id
           || octet_length(x.details) || ':' || x.details, 'UTF8'))
         ORDER BY x.i)
    INTO digests
    FROM unnest(p_at_ms, p_type, p_actor, p_actor_issuer, p_source_ip, p_service, p_resource, p_outcome,
                p_reason, p_request_id, p_details) WITH ORDINALITY
         AS x(at_ms, type, actor, actor_issuer, source_ip, service, resource, outcome, reason, request_id,
              details, i);
  first := h_hash;
  FOREACH d IN ARRAY digests LOOP
    h_hash := sha256(h_hash || d);
    hashes := array_append(hashes, h_hash);
  END LOOP;
  PERFORM audit_insert_block(h_seq + 1, first, p_at_ms, p_type, p_actor, p_actor_issuer, p_source_ip,
                             p_service, p_resource, p_outcome, p_reason, p_request_id, p_details, hashes);
  UPDATE audit_head SET seq = h_seq + n, hash = h_hash WHERE singleton;
  RETURN h_seq + n;
END $$;

-- The writer's append (migration 009): its hashes used as they are when the chain still ends where it hashed
-- from, else audit_append() hashes the batch. Same signature, checks and result as before; one block.
CREATE OR REPLACE FUNCTION audit_append_chained(p_after_seq bigint, p_after_hash bytea, p_at_ms bigint[],
                                                p_type text[], p_actor text[], p_actor_issuer text[],
                                                p_source_ip text[], p_service text[], p_resource text[],
                                                p_outcome text[], p_reason text[], p_request_id text[],
                                                p_details text[], p_hash bytea[], OUT hashed_here boolean,
                                                OUT head_seq bigint, OUT head_hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n int := coalesce(array_length(p_hash, 1), 0);
BEGIN
  IF coalesce(array_length(p_at_ms, 1), 0) <> n OR coalesce(array_length(p_type, 1), 0) <> n
     OR coalesce(array_length(p_actor, 1), 0) <> n OR coalesce(array_length(p_actor_issuer, 1), 0) <> n
     OR coalesce(array_length(p_source_ip, 1), 0) <> n OR coalesce(array_length(p_service, 1), 0) <> n
     OR coalesce(array_length(p_resource, 1), 0) <> n OR coalesce(array_length(p_outcome, 1), 0) <> n
     OR coalesce(array_length(p_reason, 1), 0) <> n OR coalesce(array_length(p_request_id, 1), 0) <> n
     OR coalesce(array_length(p_details, 1), 0) <> n THEN
    RAISE EXCEPTION 'audit_append_chained: every field array must have the same length as the hashes'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(p_hash) AS x(h) WHERE x.h IS NULL OR octet_length(x.h) <> 32) THEN
    RAISE EXCEPTION 'audit_append_chained: every hash must be 32 bytes' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_head h WHERE h.singleton FOR UPDATE;
  IF p_after_seq IS DISTINCT FROM head_seq OR p_after_hash IS DISTINCT FROM head_hash THEN
    hashed_here := true;
    head_seq := audit_append(p_at_ms, p_type, p_actor, p_actor_issuer, p_source_ip, p_service, p_resource,
                             p_outcome, p_reason, p_request_id, p_details);
    SELECT h.hash INTO head_hash FROM audit_head h WHERE h.singleton;
    RETURN;
  END IF;
  hashed_here := false;
  IF n = 0 THEN
    RETURN;
  END IF;
  -- NULL fields are refused by the table's constraints (the writer sends none).
  PERFORM audit_insert_block(head_seq + 1, head_hash, p_at_ms, p_type, p_actor, p_actor_issuer, p_source_ip,
                             p_service, p_resource, p_outcome, p_reason, p_request_id, p_details, p_hash);
  head_seq := head_seq + n;
  head_hash := p_hash[n];
  UPDATE audit_head SET seq = head_seq, hash = head_hash WHERE singleton;
END $$;

-- Retention: migration 008's audit_prune() goes on removing rows (renamed audit_prune_rows); once no row is
-- left after the anchor, whole blocks, oldest first: those whose records were all written more than
-- `retention_days` ago, up to `max_rows` records a call (at least one block). Returns how many records it
-- removed; call again until 0.
ALTER FUNCTION audit_prune(integer, integer) RENAME TO audit_prune_rows;
CREATE FUNCTION audit_prune(retention_days integer, max_rows integer DEFAULT 10000) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  a_seq     bigint;
  cutoff    bigint;
  b         record;
  last_lo   bigint;
  last_seq  bigint;
  last_hash bytea;
  n_removed bigint := 0;
BEGIN
  IF retention_days IS NULL OR retention_days < 1 THEN
    RAISE EXCEPTION 'retention_days must be at least 1' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT seq INTO a_seq FROM audit_anchor WHERE singleton FOR UPDATE;
  IF EXISTS (SELECT 1 FROM audit_events e WHERE e.seq > a_seq) THEN
    RETURN audit_prune_rows(retention_days, max_rows);
  END IF;
  cutoff := (extract(epoch FROM clock_timestamp()) * 1000)::bigint - retention_days::bigint * 86400000;
  FOR b IN SELECT bl.lo, bl.hi, bl.at_hi FROM audit_blocks bl WHERE bl.lo > a_seq ORDER BY bl.lo LOOP
    EXIT WHEN b.at_hi >= cutoff OR (n_removed > 0 AND n_removed + (b.hi - b.lo + 1) > max_rows);
    last_lo := b.lo;
    last_seq := b.hi;
    n_removed := n_removed + (b.hi - b.lo + 1);
  END LOOP;
  IF last_seq IS NULL THEN
    RETURN 0;
  END IF;
  SELECT bl.hash[bl.hi - bl.lo + 1] INTO last_hash FROM audit_blocks bl WHERE bl.lo = last_lo;
  PERFORM set_config('dive.audit_prune', 'on', true);
  DELETE FROM audit_blocks WHERE lo > a_seq AND lo <= last_lo;
  PERFORM set_config('dive.audit_prune', 'off', true);
  UPDATE audit_anchor SET seq = last_seq, hash = last_hash, removed = audit_anchor.removed + n_removed,
         pruned_at = clock_timestamp() WHERE singleton;
  RETURN n_removed;
END $$;

REVOKE ALL ON FUNCTION audit_insert_block(bigint, bytea, bigint[], text[], text[], text[], text[], text[],
                                          text[], text[], text[], text[], text[], bytea[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_fill_nulls(text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_prune_rows(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_prune(integer, integer) FROM PUBLIC;

-- Every record as a row, from the rows and the blocks alike: for an operator's own SQL (`./dive audit` and
-- the api query through the blocks' indexes instead, src/audit/pg_store.cpp; this view unnests every block).
CREATE VIEW audit_records AS
  SELECT seq, at_ms, type, actor, actor_issuer, source_ip, service, resource, outcome, reason, request_id,
         details, prev_hash, hash
    FROM audit_events
  UNION ALL
  SELECT b.lo + u.i - 1, u.at_ms, u.type, u.actor, u.actor_issuer, u.source_ip, u.service, u.resource,
         u.outcome, u.reason, u.request_id, u.details, u.prev_hash, u.hash
    FROM audit_blocks b
         CROSS JOIN LATERAL unnest(b.at_ms, b.type, b.actor, b.actor_issuer, b.source_ip, b.service,
                                   b.resource, b.outcome, b.reason, b.request_id, b.details,
                                   b.prev_hash || b.hash[1:b.hi - b.lo], b.hash)
         WITH ORDINALITY AS u(at_ms, type, actor, actor_issuer, source_ip, service, resource, outcome,
                              reason, request_id, details, prev_hash, hash, i);
