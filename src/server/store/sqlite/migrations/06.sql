-- 6: drafts per app and admin; access review campaigns and their lines.
CREATE TABLE drafts (
  app TEXT NOT NULL, admin TEXT NOT NULL, document TEXT NOT NULL, base INTEGER,
  revision INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (app, admin));
CREATE TABLE reviews (
  id INTEGER PRIMARY KEY, app TEXT NOT NULL, scope TEXT NOT NULL, version INTEGER NOT NULL,
  opened_by TEXT NOT NULL, opened_at INTEGER NOT NULL, closed_by TEXT, closed_at INTEGER,
  outcome TEXT);
CREATE TABLE review_lines (
  review INTEGER NOT NULL, n INTEGER NOT NULL, reviewer TEXT NOT NULL, line TEXT NOT NULL,
  decision TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', decided_by TEXT,
  decided_at INTEGER, PRIMARY KEY (review, n));
CREATE INDEX review_lines_by_reviewer ON review_lines (reviewer);
