-- Dynamic client registration (RFC 7591, RFC 7592): the SHA-256 of a registered client's
-- registration access token and the rules it registered under (updates keep to them), and the operator's initial access tokens (SHA-256 too), each with
-- its uses and the policy of what it may register.
ALTER TABLE "clients" ADD COLUMN "registration_token_hash" TEXT;
ALTER TABLE "clients" ADD COLUMN "registrant" JSONB;

CREATE TABLE "registration_tokens" (
    "id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "max_uses" INTEGER,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "policy" JSONB NOT NULL DEFAULT '{}',
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "registration_tokens_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "registration_tokens_token_hash_key" ON "registration_tokens"("token_hash");
