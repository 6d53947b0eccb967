ALTER TABLE reports DROP COLUMN public_summary;
