-- 9: directories published with versions: each version names the snapshot of the people
-- in force from it on (a rollback restores them); a draft may carry a directory.
ALTER TABLE drafts ADD COLUMN directory TEXT;
ALTER TABLE versions ADD COLUMN directory TEXT;
ALTER TABLE versions ADD COLUMN directory_changed INTEGER NOT NULL DEFAULT 0;
CREATE TABLE directory_snapshots (
  app TEXT NOT NULL, sha TEXT NOT NULL, people TEXT NOT NULL, PRIMARY KEY (app, sha));
