-- Demo data for `lab serve connection-pooling` and `lab load connection-pooling`: none is needed,
-- schema.sql already holds 400 customers, 6000 orders and the three saved reports the k6 script asks for.
SELECT 1;
