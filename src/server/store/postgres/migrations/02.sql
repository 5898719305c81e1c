-- 2: decision events pruned by age.
CREATE INDEX decisions_by_time ON decisions (received_at);
