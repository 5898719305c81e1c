-- 5: the data access log (server-side and client-reported) and its alerts.
CREATE TABLE access (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
  resource TEXT NOT NULL, records TEXT NOT NULL, unmasked TEXT NOT NULL,
  outcome TEXT NOT NULL, fields TEXT NOT NULL, source TEXT NOT NULL);
CREATE INDEX access_by_time ON access (at);
CREATE INDEX access_by_user ON access (user, at);
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, user TEXT NOT NULL, detail TEXT NOT NULL);
