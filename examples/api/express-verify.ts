/**
 * The plain-Express recipe of docs/resource-servers.md: verifying Tessera access tokens with
 * `jsonwebtoken` + `jwks-rsa`, as many existing APIs already do. RS256 only (ask Tessera's
 * operator to give your clients RS256 keys); everything security-relevant is pinned:
 * algorithms, issuer, audience, typ, and a rate-limited, cached JWKS.
 *
 *   const verify = createTesseraVerifier({ issuer, audience });
 *   app.use(async (req, res, next) => {
 *     const m = /^Bearer ([\w.~+/-]+=*)$/.exec(req.headers.authorization ?? '');
 *     if (!m) return res.set('WWW-Authenticate', `Bearer realm="${audience}"`).sendStatus(401);
 *     try { req.auth = await verify(m[1]); next(); }
 *     catch (e) { res.set('WWW-Authenticate', `Bearer realm="${audience}", error="invalid_token"`).sendStatus(401); }
 *   });
 */
import jwt, { type GetPublicKeyOrSecret, type JwtHeader, type JwtPayload } from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';

export interface TesseraVerifierOptions {
  issuer: string;
  audience: string;
  /** Default: `${issuer}/.well-known/jwks.json` (read it from the discovery document if in doubt). */
  jwksUri?: string;
}

export function createTesseraVerifier(
  options: TesseraVerifierOptions,
): (token: string) => Promise<JwtPayload> {
  const client = new JwksClient({
    jwksUri: options.jwksUri ?? `${options.issuer}/.well-known/jwks.json`,
    cache: true, // keys cached by kid; an unknown kid (rotation) triggers a fetch...
    cacheMaxAge: 10 * 60 * 1000,
    rateLimit: true, // ...but at most a few per minute, so invented kids cannot hammer Tessera
    jwksRequestsPerMinute: 5,
    timeout: 5000,
  });
  const getKey: GetPublicKeyOrSecret = (header: JwtHeader, callback) => {
    // Never let the token pick an algorithm or a key location (RFC 8725 §3.1, §3.10).
    if (
      header.alg !== 'RS256' ||
      !header.kid ||
      'jku' in header ||
      'x5u' in header ||
      'jwk' in header ||
      'crit' in header
    ) {
      return callback(new Error('token header not accepted'));
    }
    client.getSigningKey(header.kid).then(
      (key) => callback(null, key.getPublicKey()),
      (err: Error) => callback(err),
    );
  };
  return (token) =>
    new Promise((resolve, reject) => {
      jwt.verify(
        token,
        getKey,
        {
          algorithms: ['RS256'],
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: 30,
          complete: true,
        },
        (err, decoded) => {
          if (err || !decoded || typeof decoded === 'string')
            return reject(err ?? new Error('invalid token'));
          // RFC 9068 §4: only typ at+jwt is an access token (an ID token is "JWT").
          const typ = String(decoded.header.typ ?? '')
            .toLowerCase()
            .replace(/^application\//, '');
          if (typ !== 'at+jwt') return reject(new Error('not an access token (typ)'));
          const payload = decoded.payload as JwtPayload;
          if (typeof payload.exp !== 'number') return reject(new Error('token has no exp'));
          resolve(payload);
        },
      );
    });
}
