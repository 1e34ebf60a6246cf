-- The purge finds revoked families and ended sessions by these (it deletes each kind in its own
-- step, so every step is an index range scan rather than a scan of the whole table). Partial:
-- only dead rows are in them, so a look-up of live rows ("revoked_at IS NULL") can never be
-- planned through them, and they stay as small as what the purge has left to do.
CREATE INDEX "refresh_token_families_revoked_at_idx" ON "refresh_token_families"("revoked_at") WHERE "revoked_at" IS NOT NULL;
CREATE INDEX "browser_sessions_ended_at_idx" ON "browser_sessions"("ended_at") WHERE "ended_at" IS NOT NULL;
