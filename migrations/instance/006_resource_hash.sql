-- The SHA-256 (hex) of each stored object's exact text, kept by the database itself: a trigger recomputes
-- it on every INSERT and UPDATE of a row, ours or an operator's, so it can never disagree with the text.
-- The api keys its parsed-object cache by it and transfers an object's text (~2.3 KB) only when it has not
-- parsed that exact text yet (docs/DOCUMENTS.md).
ALTER TABLE resources ADD COLUMN ztdf_sha256 TEXT;

CREATE FUNCTION resources_ztdf_sha256() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.ztdf_sha256 := encode(sha256(convert_to(NEW.ztdf, 'UTF8')), 'hex');
  RETURN NEW;
END
$$;

CREATE TRIGGER resources_ztdf_sha256 BEFORE INSERT OR UPDATE ON resources
  FOR EACH ROW EXECUTE FUNCTION resources_ztdf_sha256();

UPDATE resources SET ztdf = ztdf;  -- existing rows (the trigger fills the column)
ALTER TABLE resources ALTER COLUMN ztdf_sha256 SET NOT NULL;
