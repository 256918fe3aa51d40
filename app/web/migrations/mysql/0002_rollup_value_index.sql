-- Summaries sum each dimension's values over a range of days: an index in
-- (value, day) order with the counters lets the database group while it
-- scans, without a temporary table or a sort.
CREATE INDEX daily_rollups_value_idx ON daily_rollups (currency, dimension, value, day, count, gross, refunded);
