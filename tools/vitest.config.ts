/**
 * The tools' tests, on the shared preset (../vitest.shared.ts) with the tools' own layout:
 * the tools are not a lib with `src/`, so each project's `include` is re-pointed here.
 *   - unit  : every `*.test.ts` (the boundary checker, pack-check helpers, ...), cached.
 *   - kafka : `kafka/*.kafka.test.ts`, the kafkajs round trip against KAFKA_BROKERS.
 * Fixture trees under `test/fixtures/` are data for the checker, never tests.
 */
import { lambdalineVitestConfig } from '../vitest.shared.ts';

const config = lambdalineVitestConfig();
const include: Record<string, string[]> = {
  unit: ['**/*.test.ts'],
  kafka: ['**/*.kafka.test.ts'],
  browser: ['**/*.browser.test.ts'],
};
for (const project of config.test?.projects ?? []) {
  if (typeof project !== 'object' || project === null || !('test' in project) || !project.test?.name) continue;
  const name = typeof project.test.name === 'string' ? project.test.name : project.test.name.label;
  const patterns = include[name];
  if (patterns) project.test.include = patterns;
  project.test.exclude = [...(project.test.exclude ?? ['**/node_modules/**']), '**/fixtures/**'];
}

export default config;
