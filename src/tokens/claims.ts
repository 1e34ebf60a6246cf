/**
 * Which user claims each OpenID Connect scope releases (OIDC Core §5.4). Used by ID tokens
 * and by the userinfo endpoint, so both always agree. Claims the user has no value for are
 * left out rather than sent as null (OIDC Core §5.3.2).
 */
import type { UserProfile } from '../accounts/user-storage';

export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

/** Scope → the claims it releases. */
export const CLAIMS_BY_SCOPE = {
  profile: [
    'name',
    'given_name',
    'family_name',
    'preferred_username',
    'picture',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
} as const satisfies Record<string, readonly string[]>;

/** The protocol claims of ID tokens (OIDC Core §2, §3.1.3.6; OIDC Front-Channel Logout §3 `sid`). */
const ID_TOKEN_CLAIMS = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'amr',
  'azp',
  'nonce',
  'at_hash',
  'sid',
] as const;

/** Every claim this server can release: discovery's claims_supported (OIDC Discovery §3). */
export const SUPPORTED_CLAIMS: readonly string[] = [
  ...ID_TOKEN_CLAIMS,
  ...CLAIMS_BY_SCOPE.profile,
  ...CLAIMS_BY_SCOPE.email,
];

type ClaimValue = string | number | boolean;

function claimValue(user: UserProfile, claim: string): ClaimValue | null {
  switch (claim) {
    case 'name':
      return user.name;
    case 'given_name':
      return user.givenName;
    case 'family_name':
      return user.familyName;
    case 'preferred_username':
      return user.preferredUsername;
    case 'picture':
      return user.picture;
    case 'locale':
      return user.locale;
    case 'updated_at':
      // OIDC Core §5.1: seconds since the epoch.
      return Math.floor(user.updatedAt.getTime() / 1000);
    case 'email':
      return user.email;
    case 'email_verified':
      return user.emailVerified;
    default:
      return null;
  }
}

/** The profile/email claims `scopes` release for `user` (not `sub`; callers add it). */
export function claimsForScopes(
  user: UserProfile,
  scopes: Iterable<string>,
): Record<string, ClaimValue> {
  const out: Record<string, ClaimValue> = {};
  for (const scope of scopes) {
    const claims: readonly string[] | undefined =
      CLAIMS_BY_SCOPE[scope as keyof typeof CLAIMS_BY_SCOPE];
    if (!claims) continue;
    for (const claim of claims) {
      const value = claimValue(user, claim);
      if (value !== null) out[claim] = value;
    }
  }
  return out;
}
