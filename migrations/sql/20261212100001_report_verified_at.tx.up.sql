-- When a report was verified (for the transparency report and the
-- ClaimReview feed: the date Bawaslu published its finding). Reports
-- verified before this column existed take the time of their verification
-- in the audit trail, or else their last change.
ALTER TABLE reports ADD COLUMN verified_at {{.TS}};
--bun:split
UPDATE reports SET verified_at = COALESCE(
    (SELECT min(l.at) FROM audit_log l WHERE l.target_type = 'report' AND l.target_id = reports.id AND l.action = 'report.verified'),
    updated_at)
WHERE status = 'verified';
