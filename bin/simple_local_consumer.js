#!/usr/bin/env node
import { runSimpleLocalConsumer } from '../dist/cli/simple-local-consumer.js';

// Exit explicitly: once the job has stopped, nothing may keep the process alive.
process.exit(await runSimpleLocalConsumer(process.argv.slice(2)));
