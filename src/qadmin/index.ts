export { requireQueue } from './commands/command.js';
export { complete } from './completion.js';
export { type ConsoleIo, runConsole, runScript } from './console.js';
export { runStatement } from './dispatch.js';
export { QadminSession } from './session.js';
export { formatTable } from './table.js';
