/** New passwords per NIST SP 800-63B §5.1.1.2: length limits, common passwords, no composition rules. */
import { passwordProblem } from '../../src/accounts/password-policy';

describe('passwordProblem', () => {
  it.each([
    ['seven c', /at least 8 characters/],
    ['password', /too common/],
    ['12345678', /too common/],
    ['qwertyuiop', /too common/],
    ['Password1!', /too common/],
    ['x'.repeat(1025), /at most 1024 bytes/],
    ['é'.repeat(513), /at most 1024 bytes/], // 1,026 bytes in UTF-8
  ])('refuses %j', (password, reason) => {
    expect(passwordProblem(password)).toMatch(reason);
  });

  it.each([
    'correct horse battery staple',
    'lowercase only but long enough',
    'ünïcödé pässwörd wörks',
    'x7#Kp2!q', // no rule about classes either way
  ])('accepts %j (no composition rules)', (password) => {
    expect(passwordProblem(password)).toBeNull();
  });

  it('counts characters, not bytes, for the minimum', () => {
    expect(passwordProblem('日本語のパスワ')).toMatch(/at least 8/); // 7 characters, 21 bytes
  });

  it("refuses the user's own email or name", () => {
    expect(passwordProblem('grace.hopper', ['grace.hopper@example.com', 'Grace Hopper'])).toMatch(
      /too common/,
    );
  });
});
