#!/usr/bin/env node
import { runSimpleConsumer } from '../dist/cli/simple-consumer.js';

// Exit explicitly: once the job has stopped, nothing may keep the process alive.
process.exit(await runSimpleConsumer(process.argv.slice(2)));
