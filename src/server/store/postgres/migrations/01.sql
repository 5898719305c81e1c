-- 1: everything the SQLite store has after its seventh migration.
CREATE FUNCTION fieldgate_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME; END $$;
CREATE TABLE versions (
  app TEXT NOT NULL, version BIGINT NOT NULL, document TEXT NOT NULL, bundle TEXT NOT NULL,
  published_by TEXT NOT NULL, published_at BIGINT NOT NULL, summary TEXT NOT NULL,
  note TEXT, PRIMARY KEY (app, version));
CREATE TRIGGER versions_immutable BEFORE UPDATE OR DELETE ON versions
  FOR EACH ROW EXECUTE FUNCTION fieldgate_immutable();
CREATE TRIGGER versions_no_truncate BEFORE TRUNCATE ON versions
  FOR EACH STATEMENT EXECUTE FUNCTION fieldgate_immutable();
CREATE TABLE current (app TEXT PRIMARY KEY, version BIGINT NOT NULL);
CREATE TABLE reassignments (
  app TEXT NOT NULL, version BIGINT NOT NULL, moved TEXT NOT NULL,
  PRIMARY KEY (app, version));
CREATE TRIGGER reassignments_immutable BEFORE UPDATE OR DELETE ON reassignments
  FOR EACH ROW EXECUTE FUNCTION fieldgate_immutable();
CREATE TABLE decisions (
  id BIGSERIAL PRIMARY KEY, reported_by TEXT NOT NULL, received_at BIGINT NOT NULL,
  event TEXT NOT NULL, chain TEXT, hash TEXT, link TEXT NOT NULL);
CREATE UNIQUE INDEX decisions_chained ON decisions (reported_by, chain, hash)
  WHERE hash IS NOT NULL;
CREATE INDEX decisions_unchained ON decisions (reported_by, md5(event)) WHERE chain IS NULL;
CREATE TABLE decision_chains (
  reported_by TEXT NOT NULL, chain TEXT NOT NULL, head TEXT NOT NULL,
  PRIMARY KEY (reported_by, chain));
CREATE TABLE decision_totals (reported_by TEXT PRIMARY KEY, n BIGINT NOT NULL);
CREATE TABLE records (
  resource TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
  revision BIGINT NOT NULL DEFAULT 1, PRIMARY KEY (resource, id));
CREATE TABLE directories (
  app TEXT PRIMARY KEY, people TEXT NOT NULL, updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL);
CREATE TABLE credentials (
  name TEXT NOT NULL, kind TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL, PRIMARY KEY (name, kind));
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at BIGINT NOT NULL);
CREATE TABLE audit (
  id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL,
  endpoint TEXT NOT NULL, app TEXT, detail TEXT NOT NULL);
CREATE INDEX audit_by_time ON audit (at);
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION fieldgate_immutable();
CREATE TABLE access (
  id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, user_id TEXT NOT NULL,
  action TEXT NOT NULL, resource TEXT NOT NULL, records JSONB NOT NULL,
  unmasked TEXT NOT NULL, outcome TEXT NOT NULL, fields TEXT NOT NULL,
  source TEXT NOT NULL, count BIGINT NOT NULL DEFAULT 0);
CREATE INDEX access_by_time ON access (at);
CREATE INDEX access_by_user ON access (user_id, at);
CREATE TABLE alerts (
  id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, user_id TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE TABLE drafts (
  app TEXT NOT NULL, admin TEXT NOT NULL, document TEXT NOT NULL, base BIGINT,
  revision BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (app, admin));
CREATE TABLE reviews (
  id BIGSERIAL PRIMARY KEY, app TEXT NOT NULL, scope TEXT NOT NULL,
  version BIGINT NOT NULL, opened_by TEXT NOT NULL, opened_at BIGINT NOT NULL,
  closed_by TEXT, closed_at BIGINT, outcome TEXT);
CREATE TABLE review_lines (
  review BIGINT NOT NULL, n BIGINT NOT NULL, reviewer TEXT NOT NULL, line TEXT NOT NULL,
  decision TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', decided_by TEXT,
  decided_at BIGINT, PRIMARY KEY (review, n));
CREATE INDEX review_lines_by_reviewer ON review_lines (reviewer);
