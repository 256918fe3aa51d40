-- The same counters per calendar month: a summary reads whole months here
-- and only the partial months at either end from daily_rollups, so a
-- 400-day summary reads about a fifth of the rows.
CREATE TABLE monthly_rollups (
    currency  CHAR(3)      NOT NULL,
    dimension VARCHAR(10)  NOT NULL,
    month     CHAR(7)      NOT NULL,
    value     VARCHAR(100) NOT NULL,
    count     BIGINT       NOT NULL DEFAULT 0,
    gross     BIGINT       NOT NULL DEFAULT 0,
    refunded  BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (currency, dimension, month, value)
);
CREATE INDEX monthly_rollups_value_idx ON monthly_rollups (currency, dimension, value, month, count, gross, refunded);
INSERT INTO monthly_rollups (currency, dimension, month, value, count, gross, refunded)
SELECT currency, dimension, SUBSTR(day, 1, 7), value, SUM(count), SUM(gross), SUM(refunded)
FROM daily_rollups GROUP BY currency, dimension, SUBSTR(day, 1, 7), value;
