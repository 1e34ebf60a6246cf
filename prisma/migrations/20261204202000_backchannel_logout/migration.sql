-- OpenID Connect Back-Channel Logout 1.0: the client's logout URI and whether it needs sid
-- (section 2.2), the clients that received tokens in each browser session, and the outbox of
-- logout tokens still to be delivered (one row per client and session, deleted when done).
ALTER TABLE "clients" ADD COLUMN "backchannel_logout_uri" TEXT;
ALTER TABLE "clients" ADD COLUMN "backchannel_logout_session_required" BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE "session_clients" (
    "session_id" UUID NOT NULL,
    "client_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "session_clients_pkey" PRIMARY KEY ("session_id", "client_id")
);
ALTER TABLE "session_clients" ADD CONSTRAINT "session_clients_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "browser_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "session_clients" ADD CONSTRAINT "session_clients_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "backchannel_logout_deliveries" (
    "id" UUID NOT NULL,
    "client_id" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "session_id" UUID,
    "reason" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL,
    "give_up_at" TIMESTAMPTZ(3) NOT NULL,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "backchannel_logout_deliveries_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "backchannel_logout_deliveries_next_attempt_at_idx" ON "backchannel_logout_deliveries"("next_attempt_at");
ALTER TABLE "backchannel_logout_deliveries" ADD CONSTRAINT "backchannel_logout_deliveries_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE CASCADE ON UPDATE CASCADE;
