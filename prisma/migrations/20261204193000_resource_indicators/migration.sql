-- Resource indicators (RFC 8707): the resources an authorization request named, kept with its
-- code, the resources a login granted, kept with its refresh-token family (a refresh may
-- narrow to a subset of them), and the resources a user approved for a client (consent).
-- Existing rows get the empty list: no resource named, the client's default audience.
ALTER TABLE "authorization_codes" ADD COLUMN "resources" TEXT[] DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "refresh_token_families" ADD COLUMN "resources" TEXT[] DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "consents" ADD COLUMN "resources" TEXT[] DEFAULT ARRAY[]::TEXT[];
