-- 3: record revisions, directories, credentials, sessions, reassignments.
ALTER TABLE records ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
CREATE INDEX IF NOT EXISTS decisions_by_user ON decisions (reported_by);
CREATE TABLE directories (
  app TEXT PRIMARY KEY, people TEXT NOT NULL, updated_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE TABLE credentials (
  name TEXT NOT NULL, kind TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL, PRIMARY KEY (name, kind));
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY, user TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE reassignments (
  app TEXT NOT NULL, version INTEGER NOT NULL, moved TEXT NOT NULL,
  PRIMARY KEY (app, version));
CREATE TRIGGER reassignments_no_update BEFORE UPDATE ON reassignments
  BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
