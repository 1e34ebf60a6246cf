/**
 * Load-generator process: receives one LoadSpec, runs it, answers with its LoadResult.
 * It runs apart from the orchestrator and from the server under test.
 */
import { runLoad } from './run-load';
import type { LoadSpec } from './spec';

process.once('message', (spec: LoadSpec) => {
  runLoad(spec).then(
    (result) => process.send!(result, () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`load generator: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
});
