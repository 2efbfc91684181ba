-- Only unsigned notifications (rejected, hints) are ever pruned; signed ones are kept, and no
-- longer take an entry of the index that finds what to prune (issue 28).
DROP INDEX notifications_pruning;
CREATE INDEX notifications_pruning ON notifications (verdict, received_at) WHERE verdict IN ('rejected', 'hint');
