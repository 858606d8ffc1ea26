#!/usr/bin/env node
import { runSet } from '../dist/cli/set.js';

// Exit explicitly: once the command or the worker has stopped, nothing may keep the process alive.
process.exit(await runSet(process.argv.slice(2), 'setadm'));
