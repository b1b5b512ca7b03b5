-- The partition being written is left alone by autovacuum until it is sealed (docs/AUDIT.md "Partitions").
-- While a partition filled, autovacuum vacuumed it once or twice (the insert threshold) and analyzed it one
-- to three times, over every column: ~250 ms an ANALYZE and ~75 ms a VACUUM for 500,000 records, ~1 µs a
-- record and up to 1.8, more than the append's primary key (docs/PERFORMANCE.md "Audit trail", run 10). Now:
--
--   * a partition is attached WITH (autovacuum_enabled = off): no vacuum and no analyze while it fills.
--     Only the anti-wraparound vacuum, which PostgreSQL runs whatever the setting, can still visit it;
--     there is nothing else for a vacuum to do there (append-only: no dead rows);
--   * the columns no query filters on (issuer, address, service, reason, request id, details, hashes)
--     carry no planner statistics (SET STATISTICS 0): an ANALYZE samples six columns instead of fourteen,
--     half its time;
--   * audit_seal() analyzes the partition once, when its indexes are built, and gives it back to
--     autovacuum, which vacuums it once (visibility map, hint bits) and never analyzes it again (a sealed
--     partition no longer changes, until the retention empties it).
--
-- audit_extend() also finds the newest partition by its lo (an index probe) rather than max(hi) over all
-- of them: it runs on every append.

CREATE OR REPLACE FUNCTION audit_extend(head_seq bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n_rows  bigint;
  top     bigint;
  name    text;
  created integer := 0;
BEGIN
  SELECT partition_rows INTO n_rows FROM audit_layout WHERE singleton;
  SELECT coalesce((SELECT p.hi FROM audit_partitions p ORDER BY p.lo DESC LIMIT 1), head_seq + 1) INTO top;
  WHILE top <= head_seq + n_rows LOOP
    name := 'audit_events_' || top;
    EXECUTE format('CREATE TABLE %I (LIKE audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
                   'WITH (autovacuum_enabled = off)', name);
    PERFORM audit_unfiltered_columns_unsampled(name);
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

-- No planner statistics for the columns no query of the trail filters on (src/audit/pg_store.cpp filters on
-- seq, at_ms, type, actor, resource and outcome only).
CREATE FUNCTION audit_unfiltered_columns_unsampled(p_relname text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  EXECUTE format('ALTER TABLE %I ALTER COLUMN actor_issuer SET STATISTICS 0, '
                 'ALTER COLUMN source_ip SET STATISTICS 0, ALTER COLUMN service SET STATISTICS 0, '
                 'ALTER COLUMN reason SET STATISTICS 0, ALTER COLUMN request_id SET STATISTICS 0, '
                 'ALTER COLUMN details SET STATISTICS 0, ALTER COLUMN prev_hash SET STATISTICS 0, '
                 'ALTER COLUMN hash SET STATISTICS 0', p_relname);
END $$;

-- As in migration 010, then: the partition analyzed once (its statistics, for the planner's choice between
-- its new indexes and the primary key) and handed back to autovacuum.
CREATE OR REPLACE FUNCTION audit_seal() RETURNS text
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
  PERFORM audit_unfiltered_columns_unsampled(p.relname);  -- a no-op but for partitions attached before 012
  EXECUTE format('ANALYZE %I', p.relname);
  EXECUTE format('ALTER TABLE %I RESET (autovacuum_enabled)', p.relname);
  UPDATE audit_partitions SET sealed_at = clock_timestamp() WHERE relname = p.relname;
  RETURN p.relname;
END $$;

-- The partitions not sealed yet (the open one, the one after it, any full one waiting) go quiet now too.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT relname FROM audit_partitions WHERE sealed_at IS NULL LOOP
    EXECUTE format('ALTER TABLE %I SET (autovacuum_enabled = off)', r.relname);
    PERFORM audit_unfiltered_columns_unsampled(r.relname);
  END LOOP;
END $$;

REVOKE ALL ON FUNCTION audit_unfiltered_columns_unsampled(text) FROM PUBLIC;
