-- The audit trail's writers hash their own records (docs/AUDIT.md "How a record is written"). Migration 008's
-- audit_append() builds every record's canonical form and both SHA-256 in PL/pgSQL: ~3 µs of the database's
-- time per record, the largest part of what the trail cost a read (docs/PERFORMANCE.md "Audit trail"). Now the
-- writer (src/audit/pg_store.cpp) computes the hashes from the head it last saw, exactly as before:
--
--   hash(n) = SHA-256( hash(n-1) || SHA-256(canonical(n)) )      (src/audit/chain.hpp)
--
-- and audit_append_chained() keeps what the chain's shape needs under the head row's lock: seq numbers follow
-- on without a gap, every record's prev_hash is the hash of the record before it, and every hash is 32 bytes.
-- The writer's hashes are used when the chain still ends where the writer hashed from; when another process
-- appended meanwhile, the database hashes this batch itself (audit_append(), as before), so one call always
-- appends, and the writer learns the new head from what it returns.
-- Whether a hash matches its record's content is what `./dive audit verify` recomputes for every record:
-- a writer that stored a wrong hash shows there as a broken link, like an edit after the fact.
--
-- audit_append() stays: a process of the previous version, still serving while an upgrade replaces the
-- services one at a time, appends to the same chain under the same lock.

-- The head of the chain (the last record written), for a writer that does not know it yet.
CREATE FUNCTION audit_chain_head(OUT seq bigint, OUT hash bytea)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT h.seq, h.hash FROM audit_head h WHERE h.singleton
$$;

-- Appends a batch hashed by the writer from (p_after_seq, p_after_hash): one array per field as in
-- audit_append(), plus each record's hash. Returns the new head, and hashed_here = true when the chain no
-- longer ended there and the database hashed the records itself.
CREATE FUNCTION audit_append_chained(p_after_seq bigint, p_after_hash bytea, p_at_ms bigint[], p_type text[],
                                     p_actor text[], p_actor_issuer text[], p_source_ip text[], p_service text[],
                                     p_resource text[], p_outcome text[], p_reason text[], p_request_id text[],
                                     p_details text[], p_hash bytea[],
                                     OUT hashed_here boolean, OUT head_seq bigint, OUT head_hash bytea)
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
  -- NULL fields are refused by the table's NOT NULL constraints (the writer sends none).
  INSERT INTO audit_events (seq, at_ms, type, actor, actor_issuer, source_ip, service, resource, outcome,
                            reason, request_id, details, prev_hash, hash)
    SELECT head_seq + x.i, x.at_ms, x.type, x.actor, x.actor_issuer, x.source_ip, x.service, x.resource,
           x.outcome, x.reason, x.request_id, x.details, x.prev_hash, x.hash
      FROM unnest(p_at_ms, p_type, p_actor, p_actor_issuer, p_source_ip, p_service, p_resource, p_outcome,
                  p_reason, p_request_id, p_details, ARRAY[head_hash] || p_hash[1:n - 1], p_hash)
           WITH ORDINALITY
           AS x(at_ms, type, actor, actor_issuer, source_ip, service, resource, outcome, reason, request_id,
                details, prev_hash, hash, i);
  head_seq := head_seq + n;
  head_hash := p_hash[n];
  UPDATE audit_head SET seq = head_seq, hash = head_hash WHERE singleton;
END $$;

REVOKE ALL ON FUNCTION audit_chain_head() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_append_chained(bigint, bytea, bigint[], text[], text[], text[], text[], text[], text[],
                                            text[], text[], text[], text[], bytea[]) FROM PUBLIC;
