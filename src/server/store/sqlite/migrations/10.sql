-- 10: an admin's scope (分级管理员): what a restricted admin may change, as JSON; NULL for an
-- unrestricted admin.
ALTER TABLE credentials ADD COLUMN scope TEXT;
