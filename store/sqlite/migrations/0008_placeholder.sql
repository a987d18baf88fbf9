-- Placeholder for migration 0008 (delivery resend/recover/replay), which is
-- being written on another branch: it keeps 0009 in sequence here, as
-- migrate.Load requires. Drop this file when merging that branch's 0008.
SELECT 1;
