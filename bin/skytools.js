#!/usr/bin/env node
import { main } from '../dist/cli/skytools.js';

await main(process.argv);
