-- CreateTable
CREATE TABLE "refresh_retry_seals" (
    "token_id" UUID NOT NULL,
    "successor_id" UUID NOT NULL,
    "sealed" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "refresh_retry_seals_pkey" PRIMARY KEY ("token_id")
);

-- CreateTable
CREATE TABLE "refresh_retry_access_tokens" (
    "jti" TEXT NOT NULL,
    "family_id" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "refresh_retry_access_tokens_pkey" PRIMARY KEY ("jti")
);

-- CreateIndex
CREATE INDEX "refresh_retry_seals_created_at_idx" ON "refresh_retry_seals"("created_at");

-- CreateIndex
CREATE INDEX "refresh_retry_access_tokens_family_id_idx" ON "refresh_retry_access_tokens"("family_id");

-- CreateIndex
CREATE INDEX "refresh_retry_access_tokens_expires_at_idx" ON "refresh_retry_access_tokens"("expires_at");

-- AddForeignKey
ALTER TABLE "refresh_retry_seals" ADD CONSTRAINT "refresh_retry_seals_token_id_fkey" FOREIGN KEY ("token_id") REFERENCES "refresh_tokens"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "refresh_retry_access_tokens" ADD CONSTRAINT "refresh_retry_access_tokens_family_id_fkey" FOREIGN KEY ("family_id") REFERENCES "refresh_token_families"("id") ON DELETE CASCADE ON UPDATE CASCADE;
