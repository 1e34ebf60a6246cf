/**
 * Pushed authorization requests (RFC 9126 §2): the parameters a client pushed, validated, kept
 * until the browser arrives with their request_uri. Each is used at most once and lives for
 * PAR_REQUEST_URI_TTL seconds; storage knows it only by a hash of the request_uri.
 */

export interface PushedRequest {
  clientId: string;
  /** The authorization request parameters, as validated when they were pushed. */
  params: Record<string, string>;
  /** Its RFC 8707 resources, validated (empty: none named). */
  resources: string[];
  /** They came from a verified request object (RFC 9101). */
  signed: boolean;
}

export interface PushedRequestRepository {
  save(requestUriHash: string, request: PushedRequest, expiresAt: Date): Promise<void>;
  /** Marks the request used and returns it; null when unknown, expired or already used. */
  consume(requestUriHash: string, now: Date): Promise<PushedRequest | null>;
}
