-- Client registrations as RFC 7591 metadata: the registered token endpoint authentication
-- method (null for clients registered before it was recorded: they keep accepting either
-- secret method), and the client's home page and logo.
ALTER TABLE "clients" ADD COLUMN "token_endpoint_auth_method" TEXT;
ALTER TABLE "clients" ADD COLUMN "client_uri" TEXT;
ALTER TABLE "clients" ADD COLUMN "logo_uri" TEXT;
