/**
 * The documented Express recipe (examples/api/express-verify.ts: jsonwebtoken + jwks-rsa)
 * verifies a real RS256 Tessera access token and refuses the usual attacks.
 */
import { exportSPKI, importJWK, type KeyObject } from 'jose';
import { createTesseraVerifier } from '../../examples/api/express-verify';
import { startTestServer, type TestServer } from '../support/server';
import {
  accessClaims,
  activePrivateKey,
  AUDIENCE,
  mint,
  signWith,
  unsigned,
} from '../support/resource-server';

let server: TestServer;
let verify: (token: string) => Promise<Record<string, unknown>>;
beforeAll(async () => {
  server = await startTestServer();
  verify = createTesseraVerifier({ issuer: server.config.issuer, audience: AUDIENCE });
});
afterAll(async () => {
  await server?.stop();
});

describe('Express recipe: jsonwebtoken + jwks-rsa', () => {
  it('verifies an RS256 Tessera access token (issuer, audience, pinned algorithm)', async () => {
    await expect(verify(await mint(server))).resolves.toMatchObject({
      sub: 'user-1',
      aud: AUDIENCE,
      iss: server.config.issuer,
    });
  });

  const attacks: [string, RegExp, () => Promise<string>][] = [
    [
      'an ES256 token (algorithm not pinned)',
      /header not accepted/,
      () => mint(server, {}, { alg: 'ES256' }),
    ],
    [
      'alg none',
      /signature is required|header not accepted|invalid algorithm/,
      async () =>
        unsigned(
          { alg: 'none', typ: 'at+jwt', kid: server.services.keyStore.activeKid('RS256') },
          accessClaims(server),
        ),
    ],
    [
      'HS256 signed with the public key',
      /header not accepted|invalid algorithm/,
      async () => {
        const { kid, publicJwk } = await activePrivateKey(server);
        const pem = await exportSPKI(
          (await importJWK(publicJwk, 'RS256', { extractable: true })) as KeyObject,
        );
        return signWith(
          new TextEncoder().encode(pem),
          { alg: 'HS256', typ: 'at+jwt', kid },
          accessClaims(server),
        );
      },
    ],
    ['a wrong audience', /audience invalid/, () => mint(server, { aud: 'https://other.example' })],
    ['a wrong issuer', /issuer invalid/, () => mint(server, { iss: 'https://evil.example' })],
    [
      'an expired token',
      /expired/,
      () =>
        mint(server, {
          iat: server.clock.epochSeconds() - 700,
          exp: server.clock.epochSeconds() - 100,
        }),
    ],
    ['an ID token (typ JWT)', /typ/, () => mint(server, {}, { typ: 'JWT' })],
    [
      'a jku header',
      /header not accepted/,
      async () => {
        const { kid, key } = await activePrivateKey(server);
        return signWith(
          key,
          { alg: 'RS256', typ: 'at+jwt', kid, jku: 'https://attacker.example/jwks' },
          accessClaims(server),
        );
      },
    ],
  ];
  it.each(attacks)('refuses %s', async (_name, reason, forge) => {
    await expect(verify(await forge())).rejects.toThrow(reason);
  });
});
