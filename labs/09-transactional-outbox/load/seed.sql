-- Demo data for `lab serve transactional-outbox` and `lab load transactional-outbox`: a product with
-- plenty of stock (the k6 script orders it) and one sold out, whose orders fail at COMMIT with 409.
INSERT INTO products (sku, stock) VALUES ('tea', 1000000), ('teapot-limited', 0);
