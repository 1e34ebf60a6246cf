/**
 * The token inspector (src/inspect) against a live Tessera: the verdict, each check in plain
 * words, and "signature: valid" only after a pinned-algorithm verification. One run goes
 * through the real CLI in a child process (exit codes 0 valid, 1 invalid, 2 usage).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { base64url } from 'jose';
import { createClient } from '../../src/admin/clients';
import { inspectToken, renderReport, type InspectOptions } from '../../src/inspect';
import { startTestServer, type TestServer } from '../helpers/server';
import { accessClaims, AUDIENCE, mint, unsigned } from '../resource-server/helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const opts = (extra: InspectOptions = {}): InspectOptions => ({ issuer: server.config.issuer, audience: AUDIENCE, now: () => server.clock.now().getTime(), ...extra });
const check = (report: Awaited<ReturnType<typeof inspectToken>>, name: string) => report.checks.find((c) => c.name === name);

describe('inspectToken', () => {
  it('a valid token: every check ok, signature valid, times as ISO dates with "expires in"', async () => {
    const report = await inspectToken(await mint(server), opts());
    expect(report.valid).toBe(true);
    expect(report.signature).toMatchObject({ status: 'valid', alg: 'RS256', detail: expect.stringMatching(/pinned/) });
    expect(report.checks.filter((c) => c.status !== 'ok').map((c) => c.name)).toEqual(['revocation']);
    expect(report.times.find((t) => t.claim === 'exp')).toEqual({ claim: 'exp', date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), relative: expect.stringMatching(/^expires in (10m|9m 59s)$/) });
    const text = renderReport(report);
    expect(text).toContain('signature: valid');
    expect(text).toMatch(/The token is valid for audience/);
  });

  it('also verifies against a given JWKS (file content), with no discovery', async () => {
    const keys = JSON.parse(server.services.keyStore.jwks().body);
    const report = await inspectToken(await mint(server, {}, { alg: 'ES256' }), opts({ jwks: { keys } }));
    expect(report.valid).toBe(true);
    expect(report.signature.status).toBe('valid');
  });

  const now = () => server.clock.epochSeconds();
  it.each([
    ['expired', () => mint(server, { iat: now() - 4000, exp: now() - 3600 }), 'expiry', /expired 1h( 1s)? ago/, /has expired/],
    ['wrong audience', () => mint(server, { aud: 'https://other.example' }), 'audience', /does not include/, /not meant for this audience/],
    ['an ID token', () => mint(server, {}, { typ: 'JWT' }), 'typ', /looks like an ID token/, /token type is JWT/],
  ])('%s: the failing check is explained and the verdict says why', async (_name, forge, failing, detail, verdict) => {
    const report = await inspectToken(await forge(), opts());
    expect(report.valid).toBe(false);
    expect(check(report, failing)).toEqual({ name: failing, status: 'failed', detail: expect.stringMatching(detail) });
    expect(report.verdict).toMatch(verdict);
    expect(report.signature.status).toBe('valid'); // these are Tessera's real signatures
  });

  it('a bad signature (payload tampered) is INVALID, never "valid"', async () => {
    const [h, , s] = (await mint(server)).split('.');
    const forged = `${h}.${base64url.encode(JSON.stringify(accessClaims(server, { roles: ['admin'] })))}.${s}`;
    const report = await inspectToken(forged, opts());
    expect(report.valid).toBe(false);
    expect(report.signature).toMatchObject({ status: 'invalid', detail: expect.stringMatching(/altered or signed by someone else/) });
    expect(renderReport(report)).not.toContain('signature: valid');
  });

  it('alg none is INVALID and explained', async () => {
    const report = await inspectToken(unsigned({ alg: 'none', typ: 'at+jwt' }, accessClaims(server)), opts());
    expect(report.valid).toBe(false);
    expect(report.signature).toMatchObject({ status: 'invalid', detail: expect.stringMatching(/not signed at all/) });
  });

  it('without --issuer it says the issuer came from the unverified token', async () => {
    const report = await inspectToken(await mint(server), { now: () => server.clock.now().getTime() });
    expect(report.issuer).toEqual({ value: server.config.issuer, source: 'token_unverified' });
    expect(check(report, 'issuer')?.status).toBe('not_checked');
    expect(renderReport(report)).toMatch(/TAKEN FROM THE UNVERIFIED TOKEN/);
    expect(report.verdict).toMatch(/issuer was taken from the unverified token/);
  });

  it('absurd time claims do not crash it', async () => {
    const report = await inspectToken(await mint(server, { exp: 1e20, iat: -1e20 }), opts());
    expect(report.times).toEqual([]);
    expect(report.valid).toBe(true); // exp far in the future is still "not expired"
  });

  it('says whether the token is revoked when it may ask /introspect', async () => {
    const created = await createClient(server.services, { name: 'inspector test', grantTypes: ['client_credentials'], scopes: ['api'], audiences: [AUDIENCE] });
    const c = { id: created.client.id, secret: created.secret! };
    const form = (params: Record<string, string>) => ({
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const issued = (await (await fetch(`${server.url}/token`, form({ grant_type: 'client_credentials', scope: 'api' }))).json()) as { access_token: string };
    const withIntrospection = opts({ introspection: { clientId: c.id, clientSecret: c.secret } });

    const before = await inspectToken(issued.access_token, withIntrospection);
    expect(before.valid).toBe(true);
    expect(check(before, 'revocation')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/active/) });

    expect((await fetch(`${server.url}/revoke`, form({ token: issued.access_token }))).status).toBe(200);
    const after = await inspectToken(issued.access_token, withIntrospection);
    expect(after.valid).toBe(false);
    expect(check(after, 'revocation')).toMatchObject({ status: 'failed', detail: expect.stringMatching(/revoked/) });
    expect(after.signature.status).toBe('valid');
    expect(after.verdict).toMatch(/no longer active/);
  });

  it('garbage is reported as unreadable, not thrown', async () => {
    const report = await inspectToken('not a token', opts());
    expect(report).toMatchObject({ valid: false, header: null, signature: { status: 'not_checked' } });
  });
});

describe('tessera token inspect (child process)', () => {
  function cli(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const root = join(__dirname, '..', '..');
      const child = spawn(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'scripts/cli.ts'), ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });
  }

  it('reads the token from stdin with -, prints JSON with --json, exits 0 valid / 1 invalid / 2 usage', async () => {
    const base = ['token', 'inspect', '-', '--issuer', server.config.issuer, '--audience', AUDIENCE, '--json'];
    const [ok, bad, usage] = await Promise.all([
      cli(base, await mint(server)),
      cli(base, await mint(server, { aud: 'https://other.example' })),
      cli(['token', 'inspect', '--no-such-option'], ''),
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, signature: { status: 'valid' } });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).checks).toContainEqual(expect.objectContaining({ name: 'audience', status: 'failed' }));
    expect(usage.code).toBe(2);
  }, 60_000);
});
