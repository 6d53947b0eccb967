-- The public summary an officer may give when verifying a report: the text
-- Bawaslu publishes of the finding (the ClaimReview feed's claimReviewed)
-- instead of the reporter's own summary. NULL: none was given, and the
-- reporter's summary is published as before.
ALTER TABLE reports ADD COLUMN public_summary TEXT;
