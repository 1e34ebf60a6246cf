/** Remembered consents: the scopes a user approved for a client (the authorization flow asks). */

export interface ConsentRepository {
  /** Scopes the user has approved for the client (empty when none). */
  grantedScopes(userId: string, clientId: string): Promise<string[]>;
  /** Adds `scopes` to what the user approved for the client. */
  grant(userId: string, clientId: string, scopes: string[]): Promise<void>;
}
