-- Demo data for `lab serve deadlocks` and `lab load deadlocks`: the hot accounts the k6 script
-- transfers between (ACCOUNTS=1,2,3,4), each holding 10,000.00.
INSERT INTO accounts (id, owner, balance_cents) VALUES
  (1, 'Ada', 1000000),
  (2, 'Grace', 1000000),
  (3, 'Edsger', 1000000),
  (4, 'Barbara', 1000000);
