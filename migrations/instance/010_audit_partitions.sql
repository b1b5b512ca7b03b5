-- The audit trail in partitions by seq range, whose "who" and "what" indexes are built once a partition is
-- full (docs/AUDIT.md "Partitions"). Migration 008's `(actor, seq)` and `(resource, seq)` B-trees took one
-- descent and insertion per record into trees that no longer fit in memory: most of what a record cost the
-- database (docs/PERFORMANCE.md "Audit trail"). Now:
--
--   * audit_events is partitioned by RANGE (seq); every partition has the primary key (seq), the BRIN on
--     at_ms and the append-only triggers, all of them cheap per row for an append-only table;
--   * the partition being written (the open one) has no actor or resource index: a query for one actor or
--     one resource scans it backwards by seq (at most audit_layout.partition_rows records);
--   * audit_seal() builds the two B-trees of a full partition in bulk (one sort, not one descent per
--     record) and marks it sealed; the api calls it every audit.seal_ms (docs/AUDIT.md);
--   * the partition after the open one always exists already: a trigger on audit_head, which every append
--     moves under its lock, attaches the next one (ATTACH PARTITION: SHARE UPDATE EXCLUSIVE on the parent,
--     which neither readers nor writers conflict with) while the open one still has a partition's worth of
--     headroom, so no append ever finds its range missing and none waits for a reader.
--
-- The table as it was becomes the first partition, audit_events_0 (seq 0 up to the head), with its indexes:
-- sealed from the start. Nothing of the chain changes: seq, hashes, the anchor and the head are the same.

-- former checksum (comments changed only): 85d16febfd64ad10790ec880e03f05c18e84c967cf055a5fa34b8f9d86678a0b

-- Rows per partition: at least 10,000, more than a batch (writers send at most audit.max_batch: 5,000 by
-- default, never more than 10,000).
CREATE TABLE audit_layout (
    singleton      BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    partition_rows BIGINT NOT NULL DEFAULT 500000 CHECK (partition_rows >= 10000)
);
INSERT INTO audit_layout DEFAULT VALUES;

-- One row per partition: its range of seq [lo, hi), and when its actor and resource indexes were built.
CREATE TABLE audit_partitions (
    relname   TEXT PRIMARY KEY,
    lo        BIGINT NOT NULL UNIQUE,
    hi        BIGINT NOT NULL CHECK (hi > lo),
    sealed_at TIMESTAMPTZ            -- NULL: still being written, or full and waiting for audit_seal()
);

-- Writers out while the table changes shape: the head's lock first (an append takes it first), then the table.
SELECT 1 FROM audit_head WHERE singleton FOR UPDATE;
LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE;

DROP TRIGGER audit_events_append_only ON audit_events;  -- the partitioned table's is cloned onto it
ALTER TABLE audit_events RENAME TO audit_events_0;
ALTER INDEX audit_events_pkey RENAME TO audit_events_0_pkey;
ALTER INDEX audit_events_at RENAME TO audit_events_0_at_ms_idx;
ALTER INDEX audit_events_actor RENAME TO audit_events_0_actor;
ALTER INDEX audit_events_resource RENAME TO audit_events_0_resource;

CREATE TABLE audit_events (
    seq          BIGINT NOT NULL,
    at_ms        BIGINT NOT NULL,
    type         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    actor_issuer TEXT NOT NULL,
    source_ip    TEXT NOT NULL,
    service      TEXT NOT NULL,
    resource     TEXT NOT NULL,
    outcome      TEXT NOT NULL CONSTRAINT audit_events_outcome_check
                      CHECK (outcome IN ('allow', 'deny', 'success', 'failure')),
    reason       TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    details      TEXT NOT NULL,
    prev_hash    BYTEA NOT NULL,
    hash         BYTEA NOT NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (seq)
) PARTITION BY RANGE (seq);
CREATE INDEX audit_events_at ON audit_events USING brin (at_ms);
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Whoever could read the trail reads the partitioned table (and no longer the partition directly).
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
            WHERE table_schema = 'public' AND table_name = 'audit_events_0' AND privilege_type = 'SELECT'
              AND grantee <> current_user LOOP
    EXECUTE format('GRANT SELECT ON audit_events TO %I', r.grantee);
    EXECUTE format('REVOKE ALL ON audit_events_0 FROM %I', r.grantee);
  END LOOP;
END $$;

-- Makes sure partitions reach at least one partition's worth of records past `head_seq`, attaching the next
-- ones as needed. Returns how many it attached. Called under the head's lock (audit_head's trigger), which
-- serialises it.
CREATE FUNCTION audit_extend(head_seq bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n_rows  bigint;
  top     bigint;
  name    text;
  created integer := 0;
BEGIN
  SELECT partition_rows INTO n_rows FROM audit_layout WHERE singleton;
  SELECT coalesce(max(hi), head_seq + 1) INTO top FROM audit_partitions;
  WHILE top <= head_seq + n_rows LOOP
    name := 'audit_events_' || top;
    EXECUTE format('CREATE TABLE %I (LIKE audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()', name);
    EXECUTE format('ALTER TABLE audit_events ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', name, top,
                   top + n_rows);
    INSERT INTO audit_partitions (relname, lo, hi) VALUES (name, top, top + n_rows);
    top := top + n_rows;
    created := created + 1;
  END LOOP;
  RETURN created;
END $$;

CREATE FUNCTION audit_head_moved() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM audit_extend(NEW.seq);
  RETURN NULL;
END $$;
CREATE TRIGGER audit_head_extend AFTER UPDATE OF seq ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_moved();

-- The table as it was: the first partition, sealed (it has its indexes). An instance that never wrote a
-- record starts with partitions from seq 1 instead.
DO $$
DECLARE
  h bigint;
BEGIN
  SELECT seq INTO h FROM audit_head WHERE singleton;
  IF h = 0 AND NOT EXISTS (SELECT 1 FROM audit_events_0) THEN
    DROP TABLE audit_events_0;
  ELSE
    EXECUTE format('ALTER TABLE audit_events ATTACH PARTITION audit_events_0 FOR VALUES FROM (0) TO (%s)', h + 1);
    INSERT INTO audit_partitions (relname, lo, hi, sealed_at) VALUES ('audit_events_0', 0, h + 1, now());
  END IF;
  PERFORM audit_extend(h);
END $$;

-- Builds the actor and resource indexes of the oldest full partition not sealed yet, in bulk, and marks it
-- sealed. Returns its name; NULL when none is waiting, or another process is sealing right now. One partition
-- per call (about a second for 500,000 records): the caller sets its statement_timeout for it and calls
-- again until NULL. A full partition takes no more writes, so its SHARE lock blocks nobody; readers go on
-- reading it. The indexes compare bytes (text_pattern_ops: no locale collation in the sort, ~30 % cheaper to
-- build) and serve `actor = $1` / `resource = $1` newest first all the same; the sort gets 128 MB (500,000
-- entries sort in memory) and one core (the other keeps serving).
CREATE FUNCTION audit_seal() RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET maintenance_work_mem = '128MB' SET max_parallel_maintenance_workers = 0
AS $$
DECLARE
  p audit_partitions%ROWTYPE;
BEGIN
  IF NOT pg_try_advisory_xact_lock(x'0D1EA5EA'::bigint) THEN
    RETURN NULL;
  END IF;
  SELECT * INTO p FROM audit_partitions
   WHERE sealed_at IS NULL AND hi <= (SELECT h.seq + 1 FROM audit_head h WHERE h.singleton)
   ORDER BY lo LIMIT 1;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (actor text_pattern_ops, seq)', p.relname || '_actor',
                 p.relname);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (resource text_pattern_ops, seq) WHERE resource <> %L',
                 p.relname || '_resource', p.relname, '');
  UPDATE audit_partitions SET sealed_at = clock_timestamp() WHERE relname = p.relname;
  RETURN p.relname;
END $$;

-- Drops the partitions the retention emptied (every record up to the anchor removed), so years of retention do
-- not leave thousands of empty tables behind. DROP needs the table's exclusive lock: it waits at most 100 ms
-- for it (behind a running verify or export, say) and otherwise leaves the partition for the next prune, so
-- appends never queue behind it for longer. Returns how many it dropped.
CREATE FUNCTION audit_drop_pruned() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  p       record;
  dropped integer := 0;
BEGIN
  PERFORM set_config('lock_timeout', '100ms', true);
  FOR p IN SELECT relname FROM audit_partitions
            WHERE hi - 1 <= (SELECT a.seq FROM audit_anchor a WHERE a.singleton) ORDER BY lo LOOP
    BEGIN
      EXECUTE format('DROP TABLE %I', p.relname);
      DELETE FROM audit_partitions WHERE relname = p.relname;
      dropped := dropped + 1;
    EXCEPTION WHEN lock_not_available THEN
      RETURN dropped;
    END;
  END LOOP;
  RETURN dropped;
END $$;

REVOKE ALL ON FUNCTION audit_drop_pruned() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_extend(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_head_moved() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_seal() FROM PUBLIC;
