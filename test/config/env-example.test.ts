import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envDocs } from './env-docs';

const root = join(__dirname, '..', '..');
const envExample = readFileSync(join(root, '.env.example'), 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const docs = envDocs();

describe('.env.example and the README list every configuration variable', () => {
  it('the schema describes every variable', () => {
    expect(docs.filter((d) => d.description.length < 10).map((d) => d.name)).toEqual([]);
  });

  it.each(docs.map((d) => [d.name, d] as const))(
    '.env.example documents %s (append: # description, then NAME=default)',
    (name, doc) => {
      const line = new RegExp(`^(# )?${name}=(.*)$`, 'm').exec(envExample);
      expect(line).not.toBeNull();
      expect(envExample).toContain(`# ${doc.description}\n${line![0]}`);
      // A default shown must be the schema's default (later helpers may append lines by hand).
      if (!line![1]) expect(line![2]).toBe(doc.default);
    },
  );

  it.each(docs.map((d) => [d.name, d] as const))(
    'the README configuration table documents %s (regenerate it: npx tsx test/config/env-docs.ts readme)',
    (name, doc) => {
      expect(readme).toContain(
        `| \`${name}\` | ${doc.default === '' ? '—' : `\`${doc.default}\``} |`,
      );
    },
  );
});
