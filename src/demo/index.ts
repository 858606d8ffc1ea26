export type { ConsumerSnapshot, ConsumerSummary, DemoSummary, Snapshot } from './display.js';
export { progressLine, screenLines, summaryLines } from './display.js';
export { type DemoOptions, demoDefaults } from './options.js';
export { type DemoControl, type DemoIo, runDemo } from './run.js';
