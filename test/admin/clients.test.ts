/**
 * Client registration refuses redirect URIs that would make the authorization server an open
 * or downgraded redirector (RFC 9700 §2.1, §4.1; RFC 8252 §7–§8; RFC 6749 §3.1.2), and accepts
 * what web, native and CLI apps legitimately register. The same rules hold for
 * post_logout_redirect_uris; nothing refused is written.
 */
import { createClient, updateClient } from '../../src/admin/clients';
import { AdminError } from '../../src/admin/users';
import { useTestServer } from '../support/server';

const server = useTestServer();

const base = { name: 'Redirect test', isPublic: true, grantTypes: ['authorization_code' as const] };

const refused: [string, string, RegExp][] = [
  [
    'plain http on a public host',
    'http://evil.example/cb',
    /plain http is allowed only for loopback/,
  ],
  [
    'plain http on a name that starts with localhost',
    'http://localhost.evil.example/cb',
    /plain http is allowed only for loopback/,
  ],
  [
    'plain http on another loopback address',
    'http://127.0.0.2/cb',
    /plain http is allowed only for loopback/,
  ],
  ['a * in the host', 'https://*.example.com/cb', /not a wildcard/],
  ['a * inside a host label', 'https://app*.example.com/cb', /not a wildcard/],
  ['a fragment', 'https://app.example.com/cb#x', /fragment/],
  ['an empty fragment', 'https://app.example.com/cb#', /fragment/],
  ['userinfo', 'https://app.example.com@evil.example/cb', /userinfo/],
  ['userinfo on loopback', 'http://user:pw@127.0.0.1/cb', /userinfo/],
  ['a relative reference', '/callback', /absolute URI/],
  ['a scheme-relative reference', '//app.example.com/cb', /absolute URI/],
  ['no scheme', 'app.example.com/cb', /absolute URI/],
  ['https without a host', 'https:/cb', /needs a host/],
  ['javascript:', 'javascript:alert(1)', /scheme javascript: is not allowed/],
  ['JavaScript: in mixed case', 'JavaScript://%0aalert(1)', /scheme javascript: is not allowed/],
  ['data:', 'data:text/html,<script>alert(1)</script>', /scheme data: is not allowed/],
  ['file:', 'file:///etc/passwd', /scheme file: is not allowed/],
  ['vbscript:', 'vbscript:msgbox(1)', /scheme vbscript: is not allowed/],
  ['a private-use scheme without a dot', 'myapp:/cb', /scheme myapp: is not allowed/],
  ['a space', 'https://app.example.com/a b', /ASCII without spaces/],
  ['a very long URI', `https://app.example.com/${'a'.repeat(2000)}`, /at most 2000 characters/],
];

describe('createClient refuses unsafe redirect URIs', () => {
  /** The error names the field and its position, shows the value, then says what is wrong. */
  async function refusal(input: Parameters<typeof createClient>[1]): Promise<string> {
    const err = await createClient(server().services, input).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AdminError);
    return (err as Error).message;
  }

  it.each(refused)('redirect_uris: %s', async (_name, uri, reason) => {
    const before = await server().services.clients.list();
    const message = await refusal({ ...base, redirectUris: ['https://ok.example/cb', uri] });
    expect(
      message.startsWith(
        `redirect_uris[1] ${uri.length <= 120 && !uri.includes(' ') ? `${uri}: ` : ''}`,
      ),
    ).toBe(true);
    expect(message).toMatch(reason);
    expect(await server().services.clients.list()).toHaveLength(before.length);
  });

  it.each(refused)('post_logout_redirect_uris: %s', async (_name, uri, reason) => {
    const message = await refusal({
      ...base,
      redirectUris: ['https://ok.example/cb'],
      postLogoutRedirectUris: [uri],
    });
    expect(message.startsWith('post_logout_redirect_uris[0] ')).toBe(true);
    expect(message).toMatch(reason);
  });
});

describe('createClient accepts what web, native and CLI apps register', () => {
  it.each([
    ['https', 'https://app.example.com/callback'],
    ['https with a port and a query', 'https://app.example.com:8443/cb?tenant=a'],
    ['IPv4 loopback (RFC 8252 §7.3)', 'http://127.0.0.1/callback'],
    ['IPv4 loopback with a port', 'http://127.0.0.1:8400/callback'],
    ['IPv6 loopback', 'http://[::1]/callback'],
    ['localhost for development (RFC 8252 §8.3)', 'http://localhost:8080/callback'],
    ['a private-use scheme, one slash (RFC 8252 §7.1)', 'com.example.app:/oauth2redirect'],
    ['a private-use scheme with an authority', 'com.example.app://callback'],
  ])('%s: %s', async (_name, uri) => {
    const { client } = await createClient(server().services, {
      ...base,
      redirectUris: [uri],
      postLogoutRedirectUris: [uri],
    });
    expect(client.redirectUris).toEqual([uri]);
    expect(client.postLogoutRedirectUris).toEqual([uri]);
  });
});

describe('updateClient', () => {
  it.each([[null], [[{ client_name: 'x' }]], ['client_name=x']])(
    'refuses %j as a document and changes nothing',
    async (document) => {
      const { client } = await createClient(server().services, {
        name: 'kept',
        isPublic: true,
        redirectUris: ['https://kept.example/cb'],
      });
      await expect(updateClient(server().services, client.id, document)).rejects.toThrow(
        new AdminError('the client metadata must be a JSON object'),
      );
      expect((await server().services.clients.findById(client.id))?.name).toBe('kept');
    },
  );

  it('replaces the registration and the change is seen at once in this process', async () => {
    const { client } = await createClient(server().services, {
      name: 'before',
      isPublic: true,
      redirectUris: ['https://before.example/cb'],
    });
    await server().services.clientLookup.findById(client.id); // cached
    const { client: updated, secret } = await updateClient(server().services, client.id, {
      client_name: 'after',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['https://after.example/cb'],
    });
    expect(secret).toBeNull();
    expect(updated).toMatchObject({ name: 'after', redirectUris: ['https://after.example/cb'] });
    expect((await server().services.clientLookup.findById(client.id))?.name).toBe('after');
  });
});
