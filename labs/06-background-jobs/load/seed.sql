-- Demo data for `lab serve background-jobs` and `lab load background-jobs`: a few receipts already
-- sent, so that GET /jobs/1 answers before anything is queued. The k6 script queues its own.
INSERT INTO jobs (kind, payload, status, attempts, started_at, finished_at) VALUES
  ('send-receipt', '{"orderId": "seed-1", "email": "ada@example.com", "amountCents": 1999}', 'done', 1, now(), now()),
  ('send-receipt', '{"orderId": "seed-2", "email": "grace@example.com", "amountCents": 4500}', 'done', 1, now(), now());
