-- Demo data for `lab serve sessions` and `lab load sessions`: 50 more users for the k6 script's
-- virtual users, load01 … load50, all with alice's password (correct-horse-7).
INSERT INTO users (username, display_name, password_hash)
SELECT format('load%s', lpad(n::text, 2, '0')), format('Load user %s', n), password_hash
  FROM generate_series(1, 50) AS n, users
 WHERE users.username = 'alice';
