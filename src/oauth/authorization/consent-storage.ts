/**
 * Remembered consents: the scopes — and the resources (RFC 8707) — a user approved for a
 * client (the authorization flow asks).
 */

export interface ConsentRepository {
  /** Scopes the user has approved for the client (empty when none). */
  grantedScopes(userId: string, clientId: string): Promise<string[]>;
  /** Resources the user has approved for the client (empty when none). */
  grantedResources(userId: string, clientId: string): Promise<string[]>;
  /** Adds `scopes` (and `resources`) to what the user approved for the client. */
  grant(userId: string, clientId: string, scopes: string[], resources?: string[]): Promise<void>;
}
