-- AlterTable
ALTER TABLE "authorization_codes" ADD COLUMN     "access_token_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "access_token_jti" TEXT;
