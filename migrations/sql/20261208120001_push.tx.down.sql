DROP TABLE push_acks;
--bun:split
DROP TABLE push_deliveries;
--bun:split
DROP TABLE push_batches;
--bun:split
DROP TABLE push_jobs;
--bun:split
DROP TABLE push_subscriptions;
