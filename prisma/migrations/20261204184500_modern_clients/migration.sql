-- Modern clients (RFC 7523, RFC 9449, RFC 9126, RFC 9101): the client's public keys (inline or
-- by URL), the algorithm its assertions and request objects are pinned to, its secret kept
-- encrypted when it signs with it (client_secret_jwt needs the secret itself, not its hash),
-- and the per-client requirements of DPoP, pushed and signed authorization requests.
ALTER TABLE "clients" ADD COLUMN "jwks" JSONB;
ALTER TABLE "clients" ADD COLUMN "jwks_uri" TEXT;
ALTER TABLE "clients" ADD COLUMN "token_endpoint_auth_signing_alg" TEXT;
ALTER TABLE "clients" ADD COLUMN "secret_ciphertext" TEXT;
ALTER TABLE "clients" ADD COLUMN "dpop_bound_access_tokens" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "clients" ADD COLUMN "require_pushed_authorization_requests" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "clients" ADD COLUMN "require_signed_request_object" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "clients" ADD COLUMN "request_object_signing_alg" TEXT;

-- Single-use JWT identifiers (client assertions, DPoP proofs), kept until the JWT could no
-- longer be accepted anyway. The key is a hash, so nothing a client sent is stored as such.
CREATE TABLE "used_jtis" (
    "kind" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "used_jtis_pkey" PRIMARY KEY ("kind", "key_hash")
);
CREATE INDEX "used_jtis_expires_at_idx" ON "used_jtis"("expires_at");
