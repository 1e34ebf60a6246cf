/**
 * Demo data for the zero-setup default: one user and one first-party client, created once.
 * The demo password and client secret are random, written to DATA_DIR/demo.json (gitignored,
 * mode 0600) so that `npm start` can print a ready curl command again on every start.
 * Never with NODE_ENV=production: a printed password is no account to have in production.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomToken } from '../shared/crypto';
import type { Services } from '../services';
import { createClient } from '../admin/clients';
import { createUser } from '../admin/users';

export interface DemoCredentials {
  email: string;
  password: string;
  clientId: string;
  clientSecret: string;
  created: boolean;
}

export const DEMO_EMAIL = 'demo@example.com';
const DEMO_CLIENT_NAME = 'Tessera demo app';

/** Creates (or finds) the demo data; null with NODE_ENV=production, where none is created. */
export async function seedDemo(services: Services): Promise<DemoCredentials | null> {
  if (services.config.NODE_ENV === 'production') {
    // Left over from a development run on the same data: say so, never use or print it.
    const leftover = await services.users.findByEmail(DEMO_EMAIL);
    if (leftover && !leftover.disabled)
      services.log.warn(
        { email: DEMO_EMAIL },
        `the demo user exists and is enabled; disable it: tessera users disable --email ${DEMO_EMAIL}`,
      );
    return null;
  }
  const file = join(services.config.DATA_DIR, 'demo.json');
  // With DATABASE_URL and SEED_DEMO, DATA_DIR may not exist yet: create it before any row, so
  // the credentials file can always be written once the demo user exists.
  mkdirSync(services.config.DATA_DIR, { recursive: true, mode: 0o700 });
  const existing = await services.users.findByEmail(DEMO_EMAIL);
  if (existing && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials;
    if (await services.clients.findById(saved.clientId)) return { ...saved, created: false };
  }
  const password = existing ? '(unchanged: set before demo.json was lost)' : randomToken(12);
  if (!existing)
    await createUser(services, { email: DEMO_EMAIL, password, name: 'Demo User', roles: ['user'] });
  const { client, secret } = await createClient(services, {
    name: DEMO_CLIENT_NAME,
    firstParty: true,
    isPublic: false,
    grantTypes: ['password', 'refresh_token', 'client_credentials', 'authorization_code'],
    redirectUris: ['http://localhost:8080/callback'],
    postLogoutRedirectUris: ['http://localhost:8080/'],
    scopes: ['openid', 'profile', 'email', 'offline_access', 'api'],
    audiences: [],
    signingAlg: null,
  });
  const creds: DemoCredentials = {
    email: DEMO_EMAIL,
    password,
    clientId: client.id,
    clientSecret: secret!,
    created: true,
  };
  writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return creds;
}
