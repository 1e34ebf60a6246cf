/** What `npm start` prints on the embedded default: the demo credentials and a ready curl. */
import type { Config } from '../config';
import type { DemoCredentials } from './demo';

export function printBanner(config: Readonly<Config>, demo: DemoCredentials): void {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = [
    '',
    `Tessera is running at ${config.issuer} (embedded database in ${config.DATA_DIR}/).`,
    demo.created ? 'Demo data created:' : 'Demo data:',
    `  user     ${demo.email} / ${demo.password}`,
    `  client   ${demo.clientId} / ${demo.clientSecret}`,
    '',
    'Log in with the password grant:',
    `  curl -s ${config.issuer}/token -u ${q(`${demo.clientId}:${demo.clientSecret}`)} \\`,
    `    -d grant_type=password -d username=${q(demo.email)} -d password=${q(demo.password)} -d ${q('scope=openid profile email')}`,
    '',
    `Discovery: ${config.issuer}/.well-known/openid-configuration`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
