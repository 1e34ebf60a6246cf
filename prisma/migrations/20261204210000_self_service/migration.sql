-- Self-service accounts: sign-up accounts wait for a verified email before they sign in, and
-- the single-use links sent by email (verification, password reset) and sign-up invitations
-- are kept as their SHA-256 only, with the sign-in they continue.
ALTER TABLE "users" ADD COLUMN "verify_before_sign_in" BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE "email_tokens" (
    "token_hash" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "user_id" UUID,
    "email" TEXT NOT NULL,
    "continuation" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),

    CONSTRAINT "email_tokens_pkey" PRIMARY KEY ("token_hash")
);
CREATE INDEX "email_tokens_user_id_purpose_idx" ON "email_tokens"("user_id", "purpose");
CREATE INDEX "email_tokens_email_purpose_idx" ON "email_tokens"("email", "purpose");
ALTER TABLE "email_tokens" ADD CONSTRAINT "email_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
