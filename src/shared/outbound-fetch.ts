/**
 * The one way the authorization server requests a URL that someone else chose (a client's
 * `jwks_uri`; later upstream providers and sector identifiers). Such a URL is a request forgery
 * risk (OWASP SSRF), so every request here:
 * - is https, to a host whose every resolved address is public (outbound-address.ts); the
 *   address is resolved once, checked, and the socket connects to that very address (a custom
 *   `lookup`), so a DNS answer that changes between check and use (rebinding) gains nothing;
 * - follows no redirect (a 3xx is a failure: the document must be where it was registered);
 * - is bounded: one deadline for resolving, connecting and reading, and a cap on the body.
 *
 * `allowPrivate` (OUTBOUND_ALLOW_PRIVATE, for development and tests) also permits private and
 * loopback addresses, and plain http to those addresses only.
 */
import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress } from './outbound-address';

export type OutboundFailure =
  | 'invalid_url'
  | 'forbidden_scheme'
  | 'forbidden_address'
  | 'redirect'
  | 'too_large'
  | 'timeout'
  | 'network'
  | 'not_json';

/** A refused or failed outbound request; `message` names no address and is safe to log. */
export class OutboundFetchError extends Error {
  override name = 'OutboundFetchError';
  constructor(
    readonly reason: OutboundFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface OutboundRequest {
  /** OUTBOUND_ALLOW_PRIVATE: private and loopback targets allowed, and http to them. */
  allowPrivate: boolean;
  /** One deadline for the whole exchange (default 5 s). */
  timeoutMs?: number;
  /** Largest body read (default 256 KiB); a bigger one fails with `too_large`. */
  maxBytes?: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

export const DEFAULT_OUTBOUND_TIMEOUT_MS = 5000;
export const DEFAULT_OUTBOUND_MAX_BYTES = 256 * 1024;

/**
 * The URL if policy lets it be requested at all (scheme, no credentials, an IP literal's
 * address); a hostname's addresses are checked when it is resolved.
 */
export function checkOutboundUrl(value: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OutboundFetchError('invalid_url', 'the URL is not valid');
  }
  if (url.username || url.password)
    throw new OutboundFetchError('invalid_url', 'the URL must not carry a user or password');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowPrivate))
    throw new OutboundFetchError('forbidden_scheme', 'the URL must use https');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) checkAddress(host, url.protocol, allowPrivate);
  return url;
}

/** Requests `url` under the policy above; resolves with any status except a redirect. */
export async function outboundFetch(
  value: string,
  request: OutboundRequest,
): Promise<OutboundResponse> {
  const url = checkOutboundUrl(value, request.allowPrivate);
  const timeoutMs = request.timeoutMs ?? DEFAULT_OUTBOUND_TIMEOUT_MS;
  const maxBytes = request.maxBytes ?? DEFAULT_OUTBOUND_MAX_BYTES;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<OutboundResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: OutboundFetchError | null, res?: OutboundResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(res!);
    };
    const req = send(
      url,
      {
        method: request.method ?? 'GET',
        headers: { 'user-agent': 'Tessera', ...request.headers },
        lookup: checkedLookup(url.protocol, request.allowPrivate),
        // A fresh connection per request: no pooled socket outlives the address check it passed.
        agent: false,
      },
      (res) => readResponse(res, maxBytes, finish),
    );
    const timer = setTimeout(
      () => finish(new OutboundFetchError('timeout', `no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', (err) =>
      finish(
        err instanceof OutboundFetchError
          ? err
          : new OutboundFetchError('network', 'the request failed', { cause: err }),
      ),
    );
    req.end(request.body);
  });
}

/** The body parsed as JSON; `not_json` when it is not. */
export function jsonBody(res: OutboundResponse): unknown {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch (err) {
    throw new OutboundFetchError('not_json', 'the answer is not JSON', { cause: err });
  }
}

function readResponse(
  res: IncomingMessage,
  maxBytes: number,
  finish: (err: OutboundFetchError | null, res?: OutboundResponse) => void,
): void {
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    res.resume();
    return finish(new OutboundFetchError('redirect', `redirects are not followed (${status})`));
  }
  const tooLarge = () =>
    new OutboundFetchError('too_large', `the answer exceeds ${maxBytes} bytes`);
  if (Number(res.headers['content-length'] ?? 0) > maxBytes) return finish(tooLarge());
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) return finish(tooLarge());
    chunks.push(chunk);
  });
  res.on('error', (err) =>
    finish(new OutboundFetchError('network', 'the answer could not be read', { cause: err })),
  );
  res.on('end', () => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, value);
    }
    finish(null, { status, headers, body: Buffer.concat(chunks) });
  });
}

/**
 * A `lookup` for the socket: resolves the name, refuses it unless EVERY address passes the
 * policy (a name with one private address among public ones is refused, so which one the socket
 * picks cannot matter), and hands the socket exactly those checked addresses.
 */
function checkedLookup(protocol: string, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      try {
        if (!addresses.length) throw new OutboundFetchError('network', 'the host has no address');
        for (const a of addresses) checkAddress(a.address, protocol, allowPrivate);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** https to a public address; with allowPrivate also https or http to a non-public one. */
function checkAddress(address: string, protocol: string, allowPrivate: boolean): void {
  const isPublic = isPublicAddress(address);
  if (protocol === 'https:' ? isPublic || allowPrivate : !isPublic && allowPrivate) return;
  throw new OutboundFetchError(
    'forbidden_address',
    isPublic
      ? 'plain http is allowed only to a private host (OUTBOUND_ALLOW_PRIVATE)'
      : 'the host resolves to a private, loopback or reserved address',
  );
}
