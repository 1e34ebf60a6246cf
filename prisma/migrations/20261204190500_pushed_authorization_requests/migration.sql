-- Pushed authorization requests (RFC 9126): the validated parameters a client pushed, found by a
-- hash of the request_uri's random part, single use and short-lived.
CREATE TABLE "pushed_authorization_requests" (
    "request_uri_hash" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "resources" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "signed" BOOLEAN NOT NULL DEFAULT false,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pushed_authorization_requests_pkey" PRIMARY KEY ("request_uri_hash")
);
CREATE INDEX "pushed_authorization_requests_expires_at_idx" ON "pushed_authorization_requests"("expires_at");
ALTER TABLE "pushed_authorization_requests" ADD CONSTRAINT "pushed_authorization_requests_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE CASCADE ON UPDATE CASCADE;
