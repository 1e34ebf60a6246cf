/**
 * Limit: jose SignJWT throughput for an access-token-sized payload, `inFlight` signatures at a
 * time (jose signs through WebCrypto, which Node runs on the libuv pool, so this uses the
 * cores a server process would).
 */
import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { closedLoopRate, serveProbe, type ClosedLoop } from './closed-loop';

interface SignLimit extends ClosedLoop {
  alg: 'RS256' | 'ES256';
}

async function measure(
  p: SignLimit,
): Promise<{ alg: string; perSecond: number; inFlight: number }> {
  const { privateKey } = await generateKeyPair(p.alg, { modulusLength: 2048 });
  const sign = () => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      client_id: 'bench',
      scope: 'openid offline_access api:read',
      roles: ['user'],
    })
      .setProtectedHeader({ alg: p.alg, typ: 'at+jwt', kid: 'bench-key' })
      .setIssuer('http://127.0.0.1:3000')
      .setSubject(randomUUID())
      .setAudience('https://api.bench')
      .setIssuedAt(now)
      .setExpirationTime(now + 900)
      .setJti(randomUUID())
      .sign(privateKey);
  };
  const perSecond = await closedLoopRate(p, sign);
  return { alg: p.alg, perSecond, inFlight: p.inFlight };
}

serveProbe('sign', measure);
