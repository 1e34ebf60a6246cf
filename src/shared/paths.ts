/**
 * The package's root folder (where package.json, prisma/ and docs/ live), found by walking up
 * from this file, so the same code finds its data files whether it runs from the TypeScript
 * sources (src/shared) or from the compiled build (dist/src/shared).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'tessera'
    )
      return dir;
    if (dirname(dir) === dir)
      throw new Error(`tessera: cannot find the package root above ${from}`);
  }
}

export const PACKAGE_ROOT = findRoot(__dirname);
