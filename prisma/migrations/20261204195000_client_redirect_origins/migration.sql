-- The origins of each client's http(s) redirect URIs, kept by the repository on every write, so
-- that the CORS check asks the index for one origin instead of reading every client. Backfilled
-- with URL origin rules: scheme and host in lower case, the default port left out.
ALTER TABLE "clients" ADD COLUMN "redirect_origins" TEXT[] DEFAULT ARRAY[]::TEXT[];
UPDATE "clients" SET "redirect_origins" = COALESCE((
  SELECT array_agg(DISTINCT o ORDER BY o) FROM (
    SELECT regexp_replace(lower(substring(u FROM '^[A-Za-z]+://[^/?#]*')), '^(https://.*):443$|^(http://.*):80$', '\1\2') AS o
      FROM unnest("redirect_uris") AS u
     WHERE u ~* '^https?://'
  ) AS origins
), ARRAY[]::TEXT[]);
CREATE INDEX "clients_redirect_origins_idx" ON "clients" USING GIN ("redirect_origins");
