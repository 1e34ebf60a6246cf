// ClientKeys (clients/client-keys.ts) against a client's real web server on 127.0.0.1: the
// jwks_uri cache (Cache-Control, bounds), the refetch on an unknown kid at most once per
// interval, the per-client bound, and failures as ClientKeyError. Time is the test's clock.
import { SignJWT } from 'jose';
import { ClientKeyError, ClientKeys, type ClientWithKeys } from '../../src/clients/client-keys';
import { AdjustableClock } from '../../src/shared/clock';
import { clientKey, startJwksHost, type JwksHost, type TestClientKey } from '../support/jwks-host';

let host: JwksHost;
let clock: AdjustableClock;
let first: TestClientKey;
let second: TestClientKey;

beforeAll(async () => {
  host = await startJwksHost();
  first = await clientKey('ES256', 'first');
  second = await clientKey('ES256', 'second');
});
afterAll(() => host.close());
beforeEach(() => {
  clock = new AdjustableClock();
  host.mode = 'ok';
  host.cacheControl = 'max-age=300';
  host.jwks = { keys: [first.publicJwk] };
  host.fetches = 0;
});

const keysFor = (options: Partial<ConstructorParameters<typeof ClientKeys>[0]> = {}) =>
  new ClientKeys({ allowPrivate: true, clock, refetchIntervalSeconds: 60, ...options });

let n = 0;
const remoteClient = (): ClientWithKeys => ({ id: `c${++n}`, jwks: null, jwksUri: host.jwksUri });

function jwt(key: TestClientKey, kid: string | null = key.kid): Promise<string> {
  return new SignJWT({ sub: 'x' })
    .setProtectedHeader(kid === null ? { alg: key.alg } : { alg: key.alg, kid })
    .sign(key.privateKey);
}

async function outcome(keys: ClientKeys, client: ClientWithKeys, token: string) {
  try {
    await keys.verify(client, token, { algorithms: ['ES256'] });
    return 'verified';
  } catch (err) {
    if (err instanceof ClientKeyError) return err.reason;
    throw err;
  }
}

it('fetches once and reuses the set for its max-age, then refetches', async () => {
  const keys = keysFor();
  const client = remoteClient();
  expect(await outcome(keys, client, await jwt(first))).toBe('verified');
  expect(await outcome(keys, client, await jwt(first))).toBe('verified');
  expect(host.fetches).toBe(1);
  clock.advance(299);
  await outcome(keys, client, await jwt(first));
  expect(host.fetches).toBe(1);
  clock.advance(2);
  await outcome(keys, client, await jwt(first));
  expect(host.fetches).toBe(2);
});

it.each([
  ['max-age=1', 59, 1],
  ['no-store', 59, 1],
  ['max-age=31536000', 24 * 3600 + 1, 2],
])('bounds Cache-Control %s (after %i s: %i fetches)', async (cacheControl, after, fetches) => {
  host.cacheControl = cacheControl;
  const keys = keysFor();
  const client = remoteClient();
  await outcome(keys, client, await jwt(first));
  clock.advance(after);
  await outcome(keys, client, await jwt(first));
  expect(host.fetches).toBe(fetches);
});

it('follows a key rotation: an unknown kid refetches once per interval', async () => {
  const keys = keysFor();
  const client = remoteClient();
  await outcome(keys, client, await jwt(first));
  host.jwks = { keys: [first.publicJwk, second.publicJwk] };
  // Within the interval of the last fetch the new kid is not looked for yet.
  expect(await outcome(keys, client, await jwt(second))).toBe('unknown_key');
  expect(host.fetches).toBe(1);
  clock.advance(60);
  expect(await outcome(keys, client, await jwt(second))).toBe('verified');
  expect(host.fetches).toBe(2);
});

it('a flood of unknown kids costs one fetch', async () => {
  const keys = keysFor();
  const client = remoteClient();
  await outcome(keys, client, await jwt(first));
  clock.advance(61);
  const tokens = await Promise.all(
    Array.from({ length: 25 }, (_, i) => jwt(first, `made-up-${i}`)),
  );
  const results = await Promise.all(tokens.map((t) => outcome(keys, client, t)));
  expect(new Set(results)).toEqual(new Set(['unknown_key']));
  expect(host.fetches).toBe(2);
});

it('needs a kid when several keys could have signed', async () => {
  host.jwks = { keys: [first.publicJwk, second.publicJwk] };
  expect(await outcome(keysFor(), remoteClient(), await jwt(first, null))).toBe('kid_required');
});

it('uses inline keys without fetching', async () => {
  const client = { id: 'inline', jwks: { keys: [first.publicJwk] }, jwksUri: null };
  expect(await outcome(keysFor(), client, await jwt(first))).toBe('verified');
  expect(await outcome(keysFor(), client, await jwt(second))).toBe('unknown_key');
  expect(host.fetches).toBe(0);
});

it.each([
  ['redirects', 'redirect'],
  ['answers 500', 'error'],
  ['sends more than the size limit', 'huge'],
  ['never answers', 'hang'],
] as const)('a jwks_uri that %s is unavailable', async (_what, mode) => {
  host.mode = mode;
  const keys = keysFor({ timeoutMs: 300 });
  await expect(
    keys.verify(remoteClient(), await jwt(first), { algorithms: ['ES256'] }),
  ).rejects.toMatchObject({
    name: 'ClientKeyError',
    reason: 'unavailable',
  });
});

it('a set without a usable key is refused', async () => {
  host.jwks = { keys: [first.privateJwk] };
  expect(await outcome(keysFor(), remoteClient(), await jwt(first))).toBe('no_keys');
});

it('refuses a loopback jwks_uri without OUTBOUND_ALLOW_PRIVATE, without connecting', async () => {
  const keys = keysFor({ allowPrivate: false });
  await expect(
    keys.verify(remoteClient(), await jwt(first), { algorithms: ['ES256'] }),
  ).rejects.toThrow(/jwks_uri: the URL must use https/);
  expect(host.fetches).toBe(0);
});

it('a failing fetch is retried once per interval, and the last good set serves meanwhile', async () => {
  const keys = keysFor();
  const client = remoteClient();
  await outcome(keys, client, await jwt(first));
  clock.advance(301);
  host.mode = 'error';
  expect(await outcome(keys, client, await jwt(first))).toBe('verified');
  expect(await outcome(keys, client, await jwt(first))).toBe('verified');
  expect(host.fetches).toBe(2);
});

it('keeps at most maxEntries clients', async () => {
  const keys = keysFor({ maxEntries: 2 });
  const [a, b, c] = [remoteClient(), remoteClient(), remoteClient()];
  for (const client of [a, b, c]) await outcome(keys, client, await jwt(first));
  expect(host.fetches).toBe(3);
  await outcome(keys, c, await jwt(first));
  expect(host.fetches).toBe(3);
  await outcome(keys, a, await jwt(first));
  expect(host.fetches).toBe(4);
});
