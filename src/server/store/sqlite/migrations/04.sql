-- 4: the admin audit log, and a note on versions (`rollback to 3`).
ALTER TABLE versions ADD COLUMN note TEXT;
CREATE TABLE audit (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL,
  endpoint TEXT NOT NULL, app TEXT, detail TEXT NOT NULL);
CREATE INDEX audit_by_time ON audit (at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
