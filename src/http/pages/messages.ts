/** Sentences several pages share (one place for a future message catalogue to replace). */

/** "Try again in 1 second." / "… in 45 seconds." / "… in 3 minutes." */
export function tryAgainIn(seconds: number): string {
  if (seconds < 120) return `Try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`;
  return `Try again in ${Math.ceil(seconds / 60)} minutes.`;
}

export const NOT_VERIFIED =
  'Confirm your email address first: follow the link in the email we sent you, or ask for a new one below.';
export const MAIL_FAILED = 'We could not send the email. Please try again in a moment.';
