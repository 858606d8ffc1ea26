#!/usr/bin/env node
import { runQueueMover } from '../dist/cli/queue-mover.js';

// Exit explicitly: once the job has stopped, nothing may keep the process alive.
process.exit(await runQueueMover(process.argv.slice(2)));
