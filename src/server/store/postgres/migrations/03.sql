-- 3: directories published with versions (see the SQLite store's ninth migration).
ALTER TABLE drafts ADD COLUMN directory TEXT;
ALTER TABLE versions ADD COLUMN directory TEXT;
ALTER TABLE versions ADD COLUMN directory_changed BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE directory_snapshots (
  app TEXT NOT NULL, sha TEXT NOT NULL, people TEXT NOT NULL, PRIMARY KEY (app, sha));
