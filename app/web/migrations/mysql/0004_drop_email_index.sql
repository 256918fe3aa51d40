-- No query reads payments by payer_email alone: the search matches a
-- substring of name, email or description, which no B-tree index serves.
-- The index only cost every insert its upkeep.
DROP INDEX payments_email_idx ON payments;
