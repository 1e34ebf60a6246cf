/**
 * Limit: jose SignJWT throughput for an access-token-sized payload, `inFlight` signatures at a
 * time (jose signs through WebCrypto, which Node runs on the libuv pool, so this uses the
 * cores a server process would).
 */
import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';

interface SignLimit {
  alg: 'RS256' | 'ES256';
  inFlight: number;
  warmupMs: number;
  durationMs: number;
}

async function measure(p: SignLimit): Promise<{ alg: string; perSecond: number; inFlight: number }> {
  const { privateKey } = await generateKeyPair(p.alg, { modulusLength: 2048 });
  const sign = () => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ client_id: 'bench', scope: 'openid offline_access api:read', roles: ['user'] })
      .setProtectedHeader({ alg: p.alg, typ: 'at+jwt', kid: 'bench-key' })
      .setIssuer('http://127.0.0.1:3000')
      .setSubject(randomUUID())
      .setAudience('https://api.bench')
      .setIssuedAt(now)
      .setExpirationTime(now + 900)
      .setJti(randomUUID())
      .sign(privateKey);
  };
  const start = Date.now();
  const measureStart = start + p.warmupMs;
  const end = measureStart + p.durationMs;
  let counted = 0;
  const lane = async () => {
    while (Date.now() < end) {
      await sign();
      const now = Date.now();
      if (now >= measureStart && now <= end) counted++;
    }
  };
  await Promise.all(Array.from({ length: p.inFlight }, lane));
  return { alg: p.alg, perSecond: Math.round((counted / p.durationMs) * 10_000) / 10, inFlight: p.inFlight };
}

process.once('message', (p: SignLimit) => {
  measure(p).then(
    (r) => process.send!(r, () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`sign limit: ${String(err)}\n`);
      process.exit(1);
    },
  );
});
