-- audit_seal() indexes a full partition by hashtext(actor) and hashtext(resource), each with seq, instead of
-- the text itself (docs/AUDIT.md "Partitions"). Sorting the text was most of the seal: actors and resource
-- ids share their first eight bytes ("testuser-…", "doc-USA-…"), so PostgreSQL's abbreviated sort keys
-- could not tell them apart and every comparison went to the whole string. Integers sort at once: on a
-- 500,000-record partition of the bench hub, 415 + 572 ms for the two text indexes against 235 + 343 ms
-- (docs/PERFORMANCE.md "Audit trail", run 10). Queries ask for `hashtext(actor) = hashtext($1) AND
-- actor = $1` (src/audit/pg_store.cpp): a partition sealed before this migration answers from its text
-- index, one sealed after from its hash index, each checking the other condition on the rows it finds (a
-- hash collision costs a row read, never a wrong answer). Newest first by seq, as before.
--
-- As in migration 012 otherwise: one partition per call, the advisory lock, one ANALYZE, autovacuum after.

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
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (hashtext(actor), seq)', p.relname || '_actor',
                 p.relname);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (hashtext(resource), seq) WHERE resource <> %L',
                 p.relname || '_resource', p.relname, '');
  PERFORM audit_unfiltered_columns_unsampled(p.relname);
  EXECUTE format('ANALYZE %I', p.relname);
  EXECUTE format('ALTER TABLE %I RESET (autovacuum_enabled)', p.relname);
  UPDATE audit_partitions SET sealed_at = clock_timestamp() WHERE relname = p.relname;
  RETURN p.relname;
END $$;
