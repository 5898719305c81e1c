-- 2: decision chains (databases from before them gain the columns).
ALTER TABLE decisions ADD COLUMN chain TEXT;
ALTER TABLE decisions ADD COLUMN hash TEXT;
ALTER TABLE decisions ADD COLUMN link TEXT NOT NULL DEFAULT 'unchained';
CREATE UNIQUE INDEX IF NOT EXISTS decisions_chained
  ON decisions (reported_by, chain, hash) WHERE hash IS NOT NULL;
