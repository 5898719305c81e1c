-- 7: how many records an access entry is about (an export lists only its first ids).
ALTER TABLE access ADD COLUMN count INTEGER NOT NULL DEFAULT 0;
