/** Plain-words descriptions of scopes for the consent page. */
const DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in with your account',
  profile: 'See your name and basic profile details',
  email: 'See your email address',
  offline_access: 'Stay connected to your account while you are away',
};

export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? `Access “${scope}” on your behalf`;
}
