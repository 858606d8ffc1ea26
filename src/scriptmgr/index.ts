export { expandGlob } from './glob.js';
export { ourBin, splitArgs, startCommand } from './launch.js';
export {
  jobState,
  ScriptManager,
  type ScriptmgrCommand,
  type Selection,
  scriptmgrCommands,
} from './manager.js';
export {
  type Job,
  loadScriptmgr,
  type ScriptmgrSettings,
  type Service,
  scriptmgrKeys,
} from './settings.js';
