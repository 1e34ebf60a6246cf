/**
 * docs/deploy/nginx.conf, as shipped, in front of Tessera: Debian's nginx terminates TLS with a
 * self-signed certificate on loopback and proxies to Tessera (ISSUER https, TRUST_PROXY), and a
 * real Chromium signs in through it. What the recipe promises is checked: the issuer and every
 * URL in discovery are https, the session cookie is `__Host-` and Secure, HSTS is sent, the
 * client IP Tessera sees is the one nginx saw, and the ID token verifies against the JWKS
 * fetched through the proxy.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { chromium, type Browser } from 'playwright-core';
import { makeClient, makeUser, PASSWORD, pkcePair, type FlowClient } from '../support/code-flow';
import { freePort, startTestServer, type TestServer } from '../support/server';
import type { UserRecord } from '../../src/accounts/user-storage';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
const RECIPE = join(__dirname, '..', '..', 'docs', 'deploy', 'nginx.conf');
const available = existsSync(CHROMIUM) && existsSync(NGINX);
if (!available)
  console.warn(
    `Skipping the nginx TLS test: needs ${NGINX} and ${CHROMIUM} (apt-get install -y nginx-light chromium)`,
  );
const describeWithNginx = available ? describe : describe.skip;

jest.setTimeout(120_000);

/** The recipe with this test's port, certificate and upstream; each replaced line must exist. */
function recipeFor(port: number, dir: string, upstreamPort: number): string {
  let conf = readFileSync(RECIPE, 'utf8');
  const replace = (from: string, to: string) => {
    if (!conf.includes(from)) throw new Error(`docs/deploy/nginx.conf no longer has: ${from}`);
    conf = conf.replace(from, to);
  };
  replace('listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`);
  replace('listen [::]:443 ssl http2;', '');
  replace('server_name id.example.com;', 'server_name localhost;');
  replace('/etc/ssl/id.example.com/fullchain.pem', join(dir, 'cert.pem'));
  replace('/etc/ssl/id.example.com/privkey.pem', join(dir, 'key.pem'));
  replace('proxy_pass http://127.0.0.1:3000;', `proxy_pass http://127.0.0.1:${upstreamPort};`);
  // The main context Debian's /etc/nginx/nginx.conf would give, as an unprivileged test instance.
  const temp = (name: string) => join(dir, name);
  return `daemon off;
master_process off;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} warn;
events {}
http {
  access_log off;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
${conf}
}
`;
}

/** GET over https through the proxy, trusting the test's certificate. */
function getJson(url: string, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve(JSON.parse(body)));
    })
      .on('error', reject)
      .end();
  });
}

function postForm(
  url: string,
  ca: string,
  form: Record<string, string>,
  authorization: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ca,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(payload),
          authorization,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describeWithNginx('Tessera behind nginx (docs/deploy/nginx.conf)', () => {
  let dir: string;
  let nginx: ChildProcess;
  let server: TestServer;
  let browser: Browser;
  let rpServer: Server;
  let rpOrigin: string;
  let issuer: string;
  let ca: string;
  let user: UserRecord;
  let rp: FlowClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-nginx-'));
    for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const port = await freePort();
    issuer = `https://localhost:${port}`;
    server = await startTestServer({
      env: { ISSUER: issuer, TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '1' },
    });
    writeFileSync(join(dir, 'nginx.conf'), recipeFor(port, dir, Number(new URL(server.url).port)));
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      try {
        await getJson(`${issuer}/healthz`, ca);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    rpServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('relying party');
    });
    await new Promise<void>((resolve) => rpServer.listen(0, '127.0.0.1', resolve));
    rpOrigin = `http://127.0.0.1:${(rpServer.address() as AddressInfo).port}`;
    user = await makeUser(server);
    rp = await makeClient(server, { name: 'Proxied App', redirectUris: [`${rpOrigin}/cb`] });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    nginx?.kill('SIGTERM');
    await server?.stop();
    await new Promise<void>((resolve) => (rpServer ? rpServer.close(() => resolve()) : resolve()));
  });

  it('discovery through the proxy names only https URLs under the issuer', async () => {
    const doc = (await getJson(`${issuer}/.well-known/openid-configuration`, ca)) as Record<
      string,
      unknown
    >;
    expect(doc.issuer).toBe(issuer);
    for (const [key, value] of Object.entries(doc))
      if (key.endsWith('_endpoint') || key === 'jwks_uri')
        expect([key, String(value).startsWith(`${issuer}/`)]).toEqual([key, true]);
  });

  it('signs in through nginx in Chromium: __Host- Secure cookie, HSTS, the real client IP', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const hsts: string[] = [];
    page.on('response', (res) => {
      const value = res.headers()['strict-transport-security'];
      if (value && res.url().startsWith(issuer)) hsts.push(value);
    });
    const pkce = pkcePair();
    const url = new URL('/authorize', issuer);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: rp.client.id,
      redirect_uri: `${rpOrigin}/cb`,
      scope: 'openid email',
      state: 'proxied',
      nonce: 'n-proxied',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(k, v);
    await page.goto(url.toString());
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpOrigin}/cb?**`);
    const callback = new URL(page.url());
    expect(callback.searchParams.get('iss')).toBe(issuer);
    expect(hsts[0]).toMatch(/^max-age=\d+/);

    const session = (await context.cookies(issuer)).find((c) => c.name.includes('session'));
    expect(session).toMatchObject({ name: '__Host-tessera_session', secure: true, path: '/' });

    const tokens = await postForm(
      `${issuer}/token`,
      ca,
      {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: `${rpOrigin}/cb`,
        code_verifier: pkce.verifier,
      },
      `Basic ${Buffer.from(`${rp.client.id}:${rp.secret}`).toString('base64')}`,
    );
    expect(tokens.status).toBe(200);
    const jwks = (await getJson(`${issuer}/.well-known/jwks.json`, ca)) as JSONWebKeySet;
    const { payload } = await jwtVerify(tokens.body.id_token as string, createLocalJWKSet(jwks), {
      issuer,
      audience: rp.client.id,
    });
    expect(payload.sub).toBe(user.id);

    // TRUST_PROXY_HOPS=1: the address nginx saw (loopback), recorded with the login.
    const [event] = await server.database.db.prisma.auditEvent.findMany({
      where: { type: 'login.success', userId: user.id },
    });
    expect(event?.ip).toBe('127.0.0.1');
    await context.close();
  });
});
