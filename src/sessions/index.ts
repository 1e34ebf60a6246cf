/** The browser-facing helpers shared by /authorize, the login and consent pages and logout. */
import { Interactions } from '../oauth/authorization/interaction';
import type { Services } from '../services';
import { BrowserSessions } from './browser-sessions';
import { cookieJar, type CookieJar } from './cookies';

export interface BrowserContext {
  cookies: CookieJar;
  sessions: BrowserSessions;
  interactions: Interactions;
}

export function buildBrowserContext(
  services: Pick<Services, 'config' | 'clock' | 'keks' | 'browserSessions'>,
): BrowserContext {
  const cookies = cookieJar(services.config.issuer);
  return {
    cookies,
    sessions: new BrowserSessions({
      repo: services.browserSessions,
      cookies,
      clock: services.clock,
      ttlSeconds: services.config.SESSION_TTL,
    }),
    interactions: new Interactions(services.keks, cookies, services.clock),
  };
}
