#!/usr/bin/env node
import { runScriptmgr } from '../dist/cli/scriptmgr.js';

// Exit explicitly: once the command is done, nothing may keep the process alive.
process.exit(await runScriptmgr(process.argv.slice(2)));
