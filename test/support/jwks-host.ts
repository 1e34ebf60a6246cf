/**
 * A client's own web server for the client-key tests: a real HTTP server on 127.0.0.1 that
 * serves a JWK Set at /jwks whose keys, Cache-Control and misbehaviour (a redirect, a huge
 * body, no answer at all) the test controls, and counts the fetches it gets.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export type HostMode = 'ok' | 'redirect' | 'huge' | 'hang' | 'error';

export interface JwksHost {
  /** http://127.0.0.1:PORT */
  url: string;
  jwksUri: string;
  jwks: { keys: JWK[] };
  cacheControl: string;
  mode: HostMode;
  fetches: number;
  close(): Promise<void>;
}

export async function startJwksHost(): Promise<JwksHost> {
  const state = { jwks: { keys: [] }, cacheControl: 'max-age=300', mode: 'ok', fetches: 0 } as {
    jwks: { keys: JWK[] };
    cacheControl: string;
    mode: HostMode;
    fetches: number;
  };
  const server: Server = createServer((req, res) => {
    if (!req.url?.startsWith('/jwks')) return res.writeHead(404).end();
    state.fetches++;
    switch (state.mode) {
      case 'hang':
        return; // never answers
      case 'redirect':
        return res.writeHead(302, { location: 'https://example.com/jwks' }).end();
      case 'error':
        return res.writeHead(500).end();
      case 'huge':
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: [], padding: 'x'.repeat(200 * 1024) }));
      default:
        return res
          .writeHead(200, {
            'content-type': 'application/jwk-set+json',
            'cache-control': state.cacheControl,
          })
          .end(JSON.stringify(state.jwks));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    url,
    jwksUri: `${url}/jwks`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

export type TestKeyAlg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA' | 'Ed25519';

export interface TestClientKey {
  alg: TestKeyAlg;
  kid: string;
  privateKey: CryptoKey;
  /** The public JWK as a client registers it: kid, use sig, no alg. */
  publicJwk: JWK;
  /** The private JWK (for the tests that must see it refused). */
  privateJwk: JWK;
}

export async function clientKey(
  alg: TestKeyAlg,
  kid = `${alg}-${Math.random()}`,
): Promise<TestClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, {
    extractable: true,
  });
  return {
    alg,
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid },
  };
}
