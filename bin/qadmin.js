#!/usr/bin/env node
import { runQadmin } from '../dist/cli/qadmin.js';

// Exit explicitly: once the console has ended, nothing may keep the process alive.
process.exit(await runQadmin(process.argv.slice(2)));
