-- 4: an admin's scope (see the SQLite store's tenth migration).
ALTER TABLE credentials ADD COLUMN scope TEXT;
