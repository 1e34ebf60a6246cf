import { tryAgainIn } from '../../../src/http/pages/messages';

describe('tryAgainIn', () => {
  it.each([
    [1, 'Try again in 1 second.'],
    [2, 'Try again in 2 seconds.'],
    [119, 'Try again in 119 seconds.'],
    [120, 'Try again in 2 minutes.'],
    [3601, 'Try again in 61 minutes.'],
  ])('%i → %s', (seconds, text) => {
    expect(tryAgainIn(seconds)).toBe(text);
  });
});
