#!/usr/bin/env node
import { runLondiste } from '../dist/cli/londiste.js';

// Exit explicitly: once the command or the job has stopped, nothing may keep the process alive.
process.exit(await runLondiste(process.argv.slice(2), 'londiste'));
