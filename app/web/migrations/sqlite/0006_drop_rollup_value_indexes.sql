-- Summaries read each span's rows by primary key and add them up in the
-- application: the partial months hold under two months of days in all, and
-- walking these (value, day) indexes read every day of every value instead.
-- Unused, they only cost every rollup update its upkeep.
DROP INDEX daily_rollups_value_idx;
DROP INDEX monthly_rollups_value_idx;
