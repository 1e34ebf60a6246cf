/**
 * The peer: node-oidc-provider (v9, the OpenID-certified Node implementation on the same Koa
 * and jose) in a process of its own, configured as close to Tessera's behaviour as it allows
 * (see ../../../shared/notes/peer-oidc-provider.md):
 * - RFC 9068 JWT access tokens, which it issues only through `features.resourceIndicators`
 *   with `accessTokenFormat: 'jwt'` and an audience (every flow defaults to that resource);
 * - refresh tokens rotate on every use (`rotateRefreshToken: () => true`; its default rotates
 *   only public clients' tokens), reuse of a rotated token revokes the grant;
 * - one ES256 and one RS256 confidential client (client_secret_basic), each signing with its
 *   alg; its default in-memory store (an advantage over Tessera's PostgreSQL).
 * Everything else stays at its defaults.
 *
 * Refresh chains start from fresh logins: asked `{ freshLogins: { clientId, count } }`, the
 * process creates for each chain a grant and its first refresh token through the provider's
 * own models (what its authorization-code flow stores after a login), instead of driving the
 * cookie-and-redirect dev login over HTTP, and answers `{ tokens }`. The refresh requests
 * themselves then go through its public token endpoint exactly like Tessera's.
 */
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface PeerConfig {
  port: number;
  audience: string;
  scope: string;
  clients: { clientId: string; secret: string; alg: 'RS256' | 'ES256' }[];
}

async function signingKeys() {
  const keys = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    keys.push({
      ...(await exportJWK(privateKey)),
      alg,
      use: 'sig',
      kid: `peer-${alg.toLowerCase()}`,
    });
  }
  return { keys };
}

async function start(cfg: PeerConfig) {
  const issuer = `http://127.0.0.1:${cfg.port}`;
  const algOf = new Map(cfg.clients.map((c) => [c.clientId, c.alg]));
  const provider = new Provider(issuer, {
    clients: cfg.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.secret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      id_token_signed_response_alg: c.alg,
      scope: cfg.scope,
    })),
    jwks: await signingKeys(),
    scopes: cfg.scope.split(' '),
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    rotateRefreshToken: () => true,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => cfg.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (
          _ctx: unknown,
          _resource: string,
          client: { clientId: string },
        ) => ({
          scope: cfg.scope
            .split(' ')
            .filter((s) => s !== 'openid' && s !== 'offline_access')
            .join(' '),
          audience: cfg.audience,
          accessTokenTTL: 900,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: algOf.get(client.clientId) ?? 'RS256' } },
        }),
      },
    },
  });

  /**
   * A fresh login per chain, made just before the chains run: the default memory store is an
   * LRU of 1,000 entries, so grants created long before their first use would be evicted.
   */
  const freshLogins = async (clientId: string, count: number): Promise<string[]> => {
    const client = await provider.Client.find(clientId);
    if (!client) throw new Error(`peer client ${clientId} missing`);
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const accountId = `user-${clientId}-${loginCounter++}`;
      const grant = new provider.Grant({ accountId, clientId });
      grant.addOIDCScope('openid offline_access');
      grant.addResourceScope(cfg.audience, 'api:read');
      const grantId = await grant.save();
      const rt = new provider.RefreshToken({
        accountId,
        client,
        grantId,
        gty: 'authorization_code',
        authTime: Math.floor(Date.now() / 1000),
        scope: cfg.scope,
        resource: cfg.audience,
        expiresWithSession: false,
      });
      tokens.push(await rt.save());
    }
    return tokens;
  };
  let loginCounter = 0;
  process.on('message', (m: { freshLogins?: { clientId: string; count: number } }) => {
    if (!m.freshLogins) return;
    freshLogins(m.freshLogins.clientId, m.freshLogins.count).then(
      (tokens) => process.send!({ tokens }),
      (err: unknown) => process.send!({ error: String(err) }),
    );
  });

  const server = provider.listen(cfg.port);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  process.send!({ ready: true, port: cfg.port });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

process.once('message', (cfg: PeerConfig) => {
  start(cfg).catch((err: unknown) => {
    process.send!({ error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
});
