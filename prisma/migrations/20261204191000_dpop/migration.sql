-- DPoP (RFC 9449): the key a public client's refresh-token family is bound to (section 5), and
-- the key an authorization code was requested for with dpop_jkt (section 10), each as the
-- key's RFC 7638 thumbprint. NULL: not bound.
ALTER TABLE "refresh_token_families" ADD COLUMN "dpop_jkt" TEXT;
ALTER TABLE "authorization_codes" ADD COLUMN "dpop_jkt" TEXT;
