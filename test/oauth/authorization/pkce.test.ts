import { checkChallenge, verifierMatches } from '../../../src/oauth/authorization/pkce';

describe('PKCE (RFC 7636)', () => {
  // RFC 7636 Appendix B.
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  it('the RFC 7636 Appendix B verifier matches its challenge', () => {
    expect(verifierMatches(verifier, challenge)).toBe(true);
  });

  it.each([
    ['another verifier', 'x'.repeat(43)],
    ['the challenge itself (plain)', challenge],
    ['a verifier shorter than 43 characters', verifier.slice(0, 42)],
    ['a verifier with forbidden characters', `${verifier.slice(0, 42)}+`],
    ['a verifier longer than 128 characters', 'a'.repeat(129)],
  ])('%s does not match', (_name, candidate) => {
    expect(verifierMatches(candidate, challenge)).toBe(false);
  });

  it.each([
    ['S256 with a 43-character challenge', challenge, 'S256', null],
    ['no PKCE at all', undefined, undefined, null],
    ['plain', challenge, 'plain', /plain is not supported/],
    ['a challenge without a method (would mean plain)', challenge, undefined, /required/],
    ['a method without a challenge', undefined, 'S256', /without code_challenge/],
    ['an S256 challenge of the wrong length', challenge.slice(1), 'S256', /43/],
    ['a lower-case method', challenge, 's256', /must be S256/],
  ])('%s', (_name, ch, method, problem) => {
    const result = checkChallenge(ch, method);
    if (problem === null) expect(result).toBeNull();
    else expect(result).toMatch(problem);
  });
});
