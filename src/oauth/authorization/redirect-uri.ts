/**
 * Redirect URIs: which ones a client may register, and when a requested one matches.
 *
 * Registration (RFC 6749 §3.1.2, RFC 8252 §7–§8, RFC 9700 §2.1 and §4.1) accepts only
 *  - `https://host/...`;
 *  - `http://` on loopback: `127.0.0.1` and `[::1]` (RFC 8252 §7.3), and `localhost` for
 *    development (RFC 8252 §8.3 calls it NOT RECOMMENDED, but it works like a loopback IP);
 *  - private-use schemes in reverse-DNS form, `com.example.app:/cb` (RFC 8252 §7.1), for native
 *    apps — a scheme without a dot (`javascript:`, `data:`, `file:`, `vbscript:`) is refused;
 * and never a fragment, userinfo or a `*` in the host (it would not be a wildcard, only a
 * confusing literal). The same rules hold for post_logout_redirect_uris.
 *
 * Matching is character for character (RFC 9700 §2.1), with one exception: for a registered
 * loopback IP literal the port is ignored, because a native app gets whatever free port the OS
 * gives it at run time — RFC 8252 §7.3: the server "MUST allow any port to be specified at the
 * time of the request for loopback IP redirect URIs". `localhost` keeps exact matching: it is a
 * DNS name, not a loopback IP literal, and RFC 8252 §8.3 tells apps to use the IP literal.
 * Post-logout redirect URIs are always matched exactly.
 */
import { z } from 'zod';

export const MAX_REDIRECT_URI_LENGTH = 2000;

const LOOPBACK_HOSTS = ['127.0.0.1', '[::1]'];
/** Hosts where plain http is allowed: the loopback IP literals and `localhost`. */
export const DEVELOPMENT_HOSTS = [...LOOPBACK_HOSTS, 'localhost'];

/** Why `uri` cannot be registered as a redirect URI, or undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_REDIRECT_URI_LENGTH)
    return `must be at most ${MAX_REDIRECT_URI_LENGTH} characters`;
  if (!/^[\x21-\x7e]+$/.test(uri))
    return 'must be ASCII without spaces or control characters (percent-encode the rest)';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (!scheme || !URL.canParse(uri))
    return 'must be an absolute URI such as https://app.example.com/callback (RFC 3986 §4.3)';
  if (uri.includes('#')) return 'must not contain a fragment (RFC 6749 §3.1.2)';
  const rest = uri.slice(scheme.length + 1);
  if ((scheme === 'http' || scheme === 'https') && !rest.startsWith('//'))
    return `${scheme}: needs a host (${scheme}://host/path)`;
  if (rest.startsWith('//')) {
    const authority = rest.slice(2).split(/[/?]/, 1)[0]!;
    if (authority.includes('@'))
      return 'must not contain userinfo (user@host): it hides the real host';
    const host = (
      authority.startsWith('[')
        ? authority.slice(0, authority.indexOf(']') + 1)
        : authority.split(':', 1)[0]!
    ).toLowerCase();
    if (host.includes('*'))
      return 'a * in the host is not a wildcard: redirect URIs are matched exactly, so register each host (RFC 9700 §2.1)';
    if (!host && (scheme === 'http' || scheme === 'https'))
      return `${scheme}: needs a host (${scheme}://host/path)`;
    if (scheme === 'http' && !DEVELOPMENT_HOSTS.includes(host)) {
      return 'plain http is allowed only for loopback (http://127.0.0.1, http://[::1], http://localhost); use https (RFC 9700 §4.1, RFC 8252 §7.3)';
    }
  }
  if (scheme !== 'http' && scheme !== 'https' && !scheme.includes('.')) {
    return `the scheme ${scheme}: is not allowed; use https, http on loopback, or a private-use scheme in reverse-DNS form such as com.example.app:/callback (RFC 8252 §7.1)`;
  }
  return undefined;
}

/** One registered redirect URI (or post-logout redirect URI); the message says what is wrong. */
export const redirectUriSchema = z.string().superRefine((uri, ctx) => {
  const problem = redirectUriProblem(uri);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * Whether `requested` (the `redirect_uri` of an authorization request) matches one of the
 * client's registered redirect URIs: exactly, or — for a loopback IP literal — with any port.
 */
export function matchesRegisteredRedirectUri(
  registered: readonly string[],
  requested: string,
): boolean {
  if (registered.includes(requested)) return true;
  const want = splitLoopback(requested);
  if (!want || (want.port !== undefined && !isPort(want.port))) return false;
  return registered.some((uri) => {
    const have = splitLoopback(uri);
    return have !== undefined && have.host === want.host && have.rest === want.rest;
  });
}

/** `http://127.0.0.1:8080/cb?x` → host, port, rest; undefined unless a loopback IP literal. */
function splitLoopback(
  uri: string,
): { host: string; port: string | undefined; rest: string } | undefined {
  const m = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::([^/?#]*))?([/?#].*)?$/.exec(uri);
  if (!m || !LOOPBACK_HOSTS.includes(m[1]!)) return undefined;
  return { host: m[1]!, port: m[2], rest: m[3] ?? '' };
}

/** 1–65535 in canonical form (no leading zero, no sign). */
function isPort(text: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= 65535;
}
