#!/usr/bin/env node
import { runDataMaintainer } from '../dist/cli/data-maintainer.js';

// Exit explicitly: once the job has stopped, nothing may keep the process alive.
process.exit(await runDataMaintainer(process.argv.slice(2)));
