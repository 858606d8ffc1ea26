#!/usr/bin/env node
import { runQueueLoader } from '../dist/cli/queue-loader.js';

// Exit explicitly: once the job has stopped, nothing may keep the process alive.
process.exit(await runQueueLoader(process.argv.slice(2)));
