/**
 * cli/entry: runs the CLI when executed directly, for tests that spawn it from
 * source (`node --import tsx src/cli/entry.ts -H unix:///tmp/x.sock ps`);
 * bin/berth runs the compiled main.js instead.
 */
import { runMain } from './main.js';

void runMain();
