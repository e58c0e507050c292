-- Demo data for `lab serve idempotency` and `lab load idempotency`: none is needed, payments are
-- made by the requests themselves. The card acquirer is a stub the harness starts (lab.json "serve").
SELECT 1;
