/**
 * The environment variables as documentation: name, description and default, read from the
 * config schema itself. `.env.example` and the README's configuration table are generated from
 * this (`npx tsx test/config/env-docs.ts env|readme`) and checked against it by env-example.test.ts.
 */
import { envSchema } from '../../src/config/schema';

export interface EnvDoc {
  name: string;
  description: string;
  /** The default as it would be written in the environment, or '' when there is none. */
  default: string;
}

export function envDocs(): EnvDoc[] {
  const defaults = envSchema.parse({}) as Record<string, unknown>;
  return Object.entries(envSchema.shape).map(([name, field]) => {
    const value = defaults[name];
    return {
      name,
      description: field.description ?? '',
      default: shown(value),
    };
  });
}

/** `# description` then `NAME=default` (commented out when there is no default). */
export function renderEnvExample(): string {
  const head =
    '# Tessera configuration. Every variable is optional; the values shown are the defaults.\n# Lines starting with "# NAME=" have no default. Descriptions come from src/config/schema.ts.\n# Copy it to .env to use it: npm start and the CLI read .env from the working directory, and a\n# variable set in the real environment wins over it.\n';
  return (
    head +
    envDocs()
      .map((d) => `\n# ${d.description}\n${d.default === '' ? '# ' : ''}${d.name}=${d.default}`)
      .join('\n') +
    '\n'
  );
}

export function renderReadmeTable(): string {
  const rows = envDocs().map(
    (d) =>
      `| \`${d.name}\` | ${d.default === '' ? '—' : `\`${d.default}\``} | ${d.description.replace(/\|/g, '\\|')} |`,
  );
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

if (require.main === module) {
  process.stdout.write(
    process.argv[2] === 'readme' ? `${renderReadmeTable()}\n` : renderEnvExample(),
  );
}

function shown(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}
