-- 1: the first release's tables (made only when absent: older databases have them).
CREATE TABLE IF NOT EXISTS versions (
  app TEXT NOT NULL, version INTEGER NOT NULL, document TEXT NOT NULL, bundle TEXT NOT NULL,
  published_by TEXT NOT NULL, published_at INTEGER NOT NULL, summary TEXT NOT NULL,
  PRIMARY KEY (app, version));
CREATE TRIGGER IF NOT EXISTS versions_no_update BEFORE UPDATE ON versions
  BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS versions_no_delete BEFORE DELETE ON versions
  BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
CREATE TABLE IF NOT EXISTS current (app TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY, reported_by TEXT NOT NULL, received_at INTEGER NOT NULL,
  event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decision_chains (
  reported_by TEXT NOT NULL, chain TEXT NOT NULL, head TEXT NOT NULL,
  PRIMARY KEY (reported_by, chain));
CREATE TABLE IF NOT EXISTS records (
  resource TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (resource, id));
