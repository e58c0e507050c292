-- Demo data for `lab serve timeouts-and-breakers` and `lab load timeouts-and-breakers`: nothing in
-- Postgres. Prices live in Redis; the k6 script sets them in its setup() through PUT /prices.
SELECT 1;
