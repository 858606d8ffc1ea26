#!/usr/bin/env node
import { runQueueSplitter } from '../dist/cli/queue-splitter.js';

// Exit explicitly: once the job has stopped, nothing may keep the process alive.
process.exit(await runQueueSplitter(process.argv.slice(2)));
