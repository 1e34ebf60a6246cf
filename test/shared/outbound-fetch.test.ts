// The outbound-request policy (src/shared/outbound-fetch.ts, outbound-address.ts): which
// addresses are refused, and how a real server that redirects, floods or stalls is handled.
import { isPublicAddress } from '../../src/shared/outbound-address';
import {
  checkOutboundUrl,
  outboundFetch,
  OutboundFetchError,
  type OutboundFailure,
} from '../../src/shared/outbound-fetch';
import { startJwksHost, type JwksHost } from '../support/jwks-host';

describe('isPublicAddress', () => {
  it.each([
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.0.1',
    '192.168.255.255',
    '169.254.169.254',
    '127.0.0.1',
    '127.1.2.3',
    '0.0.0.0',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'febf::1',
    'fe80::1%eth0',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '[::1]',
    'not-an-address',
  ])('%s is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

function refusal(fn: () => unknown): OutboundFailure | 'accepted' {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    if (err instanceof OutboundFetchError) return err.reason;
    throw err;
  }
}

describe('checkOutboundUrl', () => {
  it.each([
    ['http://example.com/jwks', false, 'forbidden_scheme'],
    ['ftp://example.com/jwks', true, 'forbidden_scheme'],
    ['https://user:pw@example.com/jwks', false, 'invalid_url'],
    ['not a url', false, 'invalid_url'],
    ['https://127.0.0.1/jwks', false, 'forbidden_address'],
    ['https://[::1]/jwks', false, 'forbidden_address'],
    ['https://[::ffff:127.0.0.1]/jwks', false, 'forbidden_address'],
    ['https://169.254.169.254/latest/meta-data', false, 'forbidden_address'],
    ['https://10.1.2.3/jwks', false, 'forbidden_address'],
    // With OUTBOUND_ALLOW_PRIVATE, plain http still never reaches a public address.
    ['http://8.8.8.8/jwks', true, 'forbidden_address'],
    ['https://example.com/jwks', false, 'accepted'],
    ['https://8.8.8.8/jwks', false, 'accepted'],
    ['http://127.0.0.1/jwks', true, 'accepted'],
    ['https://10.1.2.3/jwks', true, 'accepted'],
  ] as const)('%s (allowPrivate %s): %s', (url, allowPrivate, expected) => {
    expect(refusal(() => checkOutboundUrl(url, allowPrivate))).toBe(expected);
  });
});

describe('outboundFetch against a real server on 127.0.0.1', () => {
  let host: JwksHost;
  beforeAll(async () => {
    host = await startJwksHost();
    host.jwks = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }] };
  });
  afterAll(() => host.close());
  beforeEach(() => {
    host.mode = 'ok';
  });

  async function reason(url: string, options: Partial<Parameters<typeof outboundFetch>[1]> = {}) {
    try {
      await outboundFetch(url, { allowPrivate: true, ...options });
      return 'ok';
    } catch (err) {
      expect(err).toBeInstanceOf(OutboundFetchError);
      return (err as OutboundFetchError).reason;
    }
  }

  it('reads the document when private targets are allowed', async () => {
    const res = await outboundFetch(host.jwksUri, { allowPrivate: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('max-age=300');
    expect(JSON.parse(res.body.toString('utf8'))).toEqual(host.jwks);
  });

  it('refuses 127.0.0.1 and a name resolving to it when private targets are not allowed', async () => {
    const before = host.fetches;
    expect(await reason(host.jwksUri, { allowPrivate: false })).toBe('forbidden_scheme');
    // The resolved address is what is checked: localhost is 127.0.0.1 (or ::1).
    const port = new URL(host.url).port;
    expect(await reason(`https://localhost:${port}/jwks`, { allowPrivate: false })).toBe(
      'forbidden_address',
    );
    expect(host.fetches).toBe(before);
  });

  it('connects by name to the address it checked', async () => {
    const port = new URL(host.url).port;
    const res = await outboundFetch(`http://localhost:${port}/jwks`, { allowPrivate: true });
    expect(res.status).toBe(200);
  });

  it('does not follow a redirect', async () => {
    host.mode = 'redirect';
    expect(await reason(host.jwksUri)).toBe('redirect');
  });

  it('stops reading past the size limit', async () => {
    host.mode = 'huge';
    expect(await reason(host.jwksUri, { maxBytes: 64 * 1024 })).toBe('too_large');
  });

  it('gives up at the deadline when the server never answers', async () => {
    host.mode = 'hang';
    const started = Date.now();
    expect(await reason(host.jwksUri, { timeoutMs: 300 })).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports a closed port as a network failure', async () => {
    expect(await reason('http://127.0.0.1:1/jwks')).toBe('network');
  });
});
