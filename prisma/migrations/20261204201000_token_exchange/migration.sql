-- Token exchange (RFC 8693): the client's exchange policy as its metadata document states it
-- (audiences it may exchange into, impersonation, subject token types). NULL: no policy, and
-- then no exchange.
ALTER TABLE "clients" ADD COLUMN "token_exchange" JSONB;
