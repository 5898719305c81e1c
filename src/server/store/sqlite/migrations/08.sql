-- 8: an unchained event sent again is found by an index, not by reading every event its
-- reporter sent; pruning by age finds old events the same way.
CREATE INDEX decisions_unchained ON decisions (reported_by, event) WHERE chain IS NULL;
CREATE INDEX decisions_by_time ON decisions (received_at);
