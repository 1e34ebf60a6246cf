/**
 * The token inspector (src/inspect) against a live Tessera: the verdict, each check in plain
 * words, and "signature: valid" only after a pinned-algorithm verification. One run goes
 * through the real CLI in a child process (exit codes 0 valid, 1 invalid, 2 usage).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { base64url, type JWK } from 'jose';
import { createClient } from '../../src/admin/clients';
import { inspectToken, renderReport, type InspectOptions } from '../../src/inspect';
import { startTestServer, type TestServer } from '../support/server';
import {
  accessClaims,
  attackerKey,
  AUDIENCE,
  mint,
  signWith,
  unsigned,
} from '../support/resource-server';

/**
 * An attacker's issuer on loopback: discovery, a JWKS with its own key and an introspection
 * endpoint that calls every token active. It records every request, so a test can show the
 * inspector never asked it anything (and never sent it a client secret).
 */
interface EvilIssuer {
  url: string;
  requests: { path: string; authorization: string | undefined }[];
  jwk: JWK;
  token(overrides?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

async function startEvilIssuer(): Promise<EvilIssuer> {
  const { privateKey, publicJwk } = await attackerKey();
  const jwk = { ...publicJwk, kid: 'evil-1', alg: 'RS256', use: 'sig' };
  const requests: EvilIssuer['requests'] = [];
  let url = '';
  const http: Server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const body =
      req.url === '/.well-known/openid-configuration'
        ? {
            issuer: url,
            jwks_uri: `${url}/jwks`,
            introspection_endpoint: `${url}/introspect`,
            id_token_signing_alg_values_supported: ['RS256'],
          }
        : req.url === '/jwks'
          ? { keys: [jwk] }
          : { active: true };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    jwk,
    token: (overrides = {}) =>
      signWith(
        privateKey,
        { alg: 'RS256', kid: 'evil-1', typ: 'at+jwt' },
        accessClaims(server, { iss: url, roles: ['admin'], ...overrides }),
      ),
    close: () => new Promise((resolve) => http.close(() => resolve())),
  };
}

let server: TestServer;
let evil: EvilIssuer;
beforeAll(async () => {
  server = await startTestServer();
  evil = await startEvilIssuer();
});
afterAll(async () => {
  await evil?.close();
  await server?.stop();
});
beforeEach(() => {
  evil.requests.length = 0;
});

const opts = (extra: InspectOptions = {}): InspectOptions => ({
  issuer: server.config.issuer,
  audience: AUDIENCE,
  now: () => server.clock.now().getTime(),
  ...extra,
});
const check = (report: Awaited<ReturnType<typeof inspectToken>>, name: string) =>
  report.checks.find((c) => c.name === name);

describe('inspectToken', () => {
  it('a valid token: every check ok, signature valid, times as ISO dates with "expires in"', async () => {
    const report = await inspectToken(await mint(server), opts());
    expect(report.valid).toBe(true);
    expect(report.signature).toMatchObject({
      status: 'valid',
      alg: 'RS256',
      detail: expect.stringMatching(/pinned/),
    });
    expect(report.checks.filter((c) => c.status !== 'ok').map((c) => c.name)).toEqual([
      'revocation',
    ]);
    expect(report.times.find((t) => t.claim === 'exp')).toEqual({
      claim: 'exp',
      date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      relative: expect.stringMatching(/^expires in (10m|9m 59s)$/),
    });
    const text = renderReport(report);
    expect(text).toContain('signature: valid');
    expect(text).toMatch(/The token is valid for audience/);
  });

  it('also verifies against a given JWKS (file content), with no discovery', async () => {
    const keys = JSON.parse(server.services.keyStore.jwks().body);
    const report = await inspectToken(
      await mint(server, {}, { alg: 'ES256' }),
      opts({ jwks: { keys } }),
    );
    expect(report.valid).toBe(true);
    expect(report.signature.status).toBe('valid');
  });

  const now = () => server.clock.epochSeconds();
  it.each([
    [
      'expired',
      () => mint(server, { iat: now() - 4000, exp: now() - 3600 }),
      'expiry',
      /expired 1h( 1s)? ago/,
      /has expired/,
    ],
    [
      'wrong audience',
      () => mint(server, { aud: 'https://other.example' }),
      'audience',
      /does not include/,
      /not meant for this audience/,
    ],
    [
      'an ID token',
      () => mint(server, {}, { typ: 'JWT' }),
      'typ',
      /looks like an ID token/,
      /token type is JWT/,
    ],
  ])(
    '%s: the failing check is explained and the verdict says why',
    async (_name, forge, failing, detail, verdict) => {
      const report = await inspectToken(await forge(), opts());
      expect(report.valid).toBe(false);
      expect(check(report, failing)).toEqual({
        name: failing,
        status: 'failed',
        detail: expect.stringMatching(detail),
      });
      expect(report.verdict).toMatch(verdict);
      expect(report.signature.status).toBe('valid'); // these are Tessera's real signatures
    },
  );

  it('a bad signature (payload tampered) is INVALID, never "valid"', async () => {
    const [h, , s] = (await mint(server)).split('.');
    const forged = `${h}.${base64url.encode(JSON.stringify(accessClaims(server, { roles: ['admin'] })))}.${s}`;
    const report = await inspectToken(forged, opts());
    expect(report.valid).toBe(false);
    expect(report.signature).toMatchObject({
      status: 'invalid',
      detail: expect.stringMatching(/altered or signed by someone else/),
    });
    expect(renderReport(report)).not.toContain('signature: valid');
  });

  it('alg none is INVALID and explained', async () => {
    const report = await inspectToken(
      unsigned({ alg: 'none', typ: 'at+jwt' }, accessClaims(server)),
      opts(),
    );
    expect(report.valid).toBe(false);
    expect(report.signature).toMatchObject({
      status: 'invalid',
      detail: expect.stringMatching(/not signed at all/),
    });
  });

  it('without --issuer it says the issuer came from the unverified token', async () => {
    const report = await inspectToken(await mint(server), {
      now: () => server.clock.now().getTime(),
    });
    expect(report.issuer).toEqual({ value: server.config.issuer, source: 'token_unverified' });
    expect(check(report, 'issuer')?.status).toBe('not_checked');
    expect(renderReport(report)).toMatch(/TAKEN FROM THE UNVERIFIED TOKEN/);
  });

  it('absurd time claims do not crash it', async () => {
    const report = await inspectToken(await mint(server, { exp: 1e20, iat: -1e20 }), opts());
    expect(report.times).toEqual([]);
    expect(report.valid).toBe(true); // exp far in the future is still "not expired"
  });

  it('says whether the token is revoked when it may ask /introspect', async () => {
    const created = await createClient(server.services, {
      name: 'inspector test',
      grantTypes: ['client_credentials'],
      scopes: ['api'],
      audiences: [AUDIENCE],
    });
    const c = { id: created.client.id, secret: created.secret! };
    const form = (params: Record<string, string>) => ({
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(params).toString(),
    });
    const issued = (await (
      await fetch(`${server.url}/token`, form({ grant_type: 'client_credentials', scope: 'api' }))
    ).json()) as { access_token: string };
    const withIntrospection = opts({ introspection: { clientId: c.id, clientSecret: c.secret } });

    const before = await inspectToken(issued.access_token, withIntrospection);
    expect(before.valid).toBe(true);
    expect(check(before, 'revocation')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/active/),
    });

    expect((await fetch(`${server.url}/revoke`, form({ token: issued.access_token }))).status).toBe(
      200,
    );
    const after = await inspectToken(issued.access_token, withIntrospection);
    expect(after.valid).toBe(false);
    expect(check(after, 'revocation')).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(/revoked/),
    });
    expect(after.signature.status).toBe('valid');
    expect(after.verdict).toMatch(/no longer active/);
  });

  it('garbage is reported as unreadable, not thrown', async () => {
    expect((await inspectToken('not a token', {})).outcome).toBe('invalid');
    const report = await inspectToken('not a token', opts());
    expect(report).toMatchObject({
      valid: false,
      header: null,
      signature: { status: 'not_checked' },
    });
  });
});

describe('without --issuer or --jwks the token is only decoded: nothing is fetched or called valid', () => {
  const now = () => server.clock.now().getTime();

  it.each([
    ['a token an attacker signed, naming its own issuer', () => evil.token()],
    ['a real Tessera token', () => mint(server)],
  ])(
    '%s: outcome unverified, signature not checked, no request to its iss',
    async (_name, token) => {
      const report = await inspectToken(await token(), { audience: AUDIENCE, now });
      expect(report).toMatchObject({
        valid: false,
        outcome: 'unverified',
        signature: { status: 'not_checked' },
      });
      expect(report.verdict).toMatch(/^NOT VERIFIED: the token was only decoded/);
      expect(check(report, 'issuer')?.status).toBe('not_checked');
      const text = renderReport(report);
      expect(text).toContain('signature: not verified');
      expect(text).not.toMatch(/signature: valid|The token is valid/);
      expect(evil.requests).toEqual([]);
    },
  );

  it.each([
    [
      'expired',
      () =>
        evil.token({ iat: Math.floor(now() / 1000) - 4000, exp: Math.floor(now() / 1000) - 3600 }),
      'expiry',
    ],
    [
      'alg none',
      async () => unsigned({ alg: 'none', typ: 'at+jwt' }, accessClaims(server)),
      'signature',
    ],
    ['an ID token', () => mint(server, {}, { typ: 'JWT' }), 'typ'],
  ])('%s: NOT valid from its own content, keys or not', async (_name, token, failing) => {
    const report = await inspectToken(await token(), { now });
    expect(report).toMatchObject({ valid: false, outcome: 'invalid' });
    expect(check(report, failing)?.status).toBe('failed');
    expect(evil.requests).toEqual([]);
  });

  it('with --issuer, a token whose iss names another issuer is refused without asking that issuer', async () => {
    const report = await inspectToken(await evil.token(), opts());
    expect(report).toMatchObject({
      valid: false,
      outcome: 'invalid',
      issuer: { value: server.config.issuer, source: 'option' },
    });
    expect(check(report, 'issuer')).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(/another issuer/),
    });
    expect(report.verdict).toMatch(/not the issuer you gave/);
    expect(evil.requests).toEqual([]);
  });

  it("--issuer naming the attacker's URL is a choice to trust it: its keys are fetched from there only", async () => {
    // Naming an issuer is a decision to trust it: then its keys are fetched, from that URL only.
    const report = await inspectToken(await evil.token(), {
      issuer: evil.url,
      audience: AUDIENCE,
      now,
    });
    expect(report.outcome).toBe('valid');
    expect(evil.requests.map((r) => r.path)).toEqual([
      '/.well-known/openid-configuration',
      '/jwks',
    ]);
  });

  it("--jwks without --issuer verifies the signature, but never sends client credentials to the token's iss", async () => {
    const report = await inspectToken(await evil.token(), {
      jwks: { keys: { keys: [evil.jwk] } },
      audience: AUDIENCE,
      introspection: { clientId: 'api', clientSecret: 'api-secret' },
      now,
    });
    expect(report.signature.status).toBe('valid');
    expect(check(report, 'revocation')).toMatchObject({
      status: 'not_checked',
      detail: expect.stringMatching(/--issuer/),
    });
    expect(evil.requests).toEqual([]);
  });
});

describe('tessera token inspect (child process)', () => {
  function cli(
    args: string[],
    stdin: string,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const root = join(__dirname, '..', '..');
      const child = spawn(
        process.execPath,
        [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'scripts/cli.ts'), ...args],
        { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent' } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });
  }

  it('reads the token from stdin with -, prints JSON with --json, exits 0 valid / 1 invalid / 2 usage', async () => {
    const base = [
      'token',
      'inspect',
      '-',
      '--issuer',
      server.config.issuer,
      '--audience',
      AUDIENCE,
      '--json',
    ];
    const [ok, bad, usage] = await Promise.all([
      cli(base, await mint(server)),
      cli(base, await mint(server, { aud: 'https://other.example' })),
      cli(['token', 'inspect', '--no-such-option'], ''),
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, signature: { status: 'valid' } });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).checks).toContainEqual(
      expect.objectContaining({ name: 'audience', status: 'failed' }),
    );
    expect(usage.code).toBe(2);
  }, 60_000);

  it('without --issuer: decodes only and exits 3 (not verified); client credentials need --issuer (exit 2)', async () => {
    const token = await evil.token();
    const [decoded, pinned, secretWithoutIssuer] = await Promise.all([
      cli(['token', 'inspect', '-', '--audience', AUDIENCE], token),
      cli(['token', 'inspect', '-', '--issuer', server.config.issuer], token),
      cli(
        [
          'token',
          'inspect',
          '-',
          '--jwks',
          `${evil.url}/jwks`,
          '--client-id',
          'api',
          '--client-secret',
          'api-secret',
        ],
        token,
      ),
    ]);
    expect(decoded.code).toBe(3);
    expect(decoded.stdout).toMatch(/NOT VERIFIED: the token was only decoded/);
    expect(pinned.code).toBe(1);
    expect(secretWithoutIssuer.code).toBe(2);
    expect(secretWithoutIssuer.stderr).toMatch(/--client-id and --client-secret need --issuer/);
    expect(evil.requests).toEqual([]);
  }, 60_000);
});
