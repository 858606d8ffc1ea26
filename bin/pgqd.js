#!/usr/bin/env node
import { runPgqd } from '../dist/cli/pgqd.js';

// Exit explicitly: once pgqd has stopped, nothing may keep the process alive.
process.exit(await runPgqd(process.argv.slice(2)));
