/**
 * The command lines walmgr writes into server settings (archive_command, restore_command):
 * absolute paths for node, our bin and the INI (decisions.md), each quoted for the shell.
 */
import { fileURLToPath } from 'node:url';

/** `bin/walmgr.js` of this package (this file is `dist/walmgr/commands-path.js`). */
export const walmgrBin = fileURLToPath(new URL('../../bin/walmgr.js', import.meta.url));

/** Quote one word for /bin/sh when it needs it. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** `node bin/walmgr.js INI` as the start of a server-run command. */
export function walmgrCommand(iniFile: string, nodeBin = process.execPath): string {
  return [nodeBin, walmgrBin, iniFile].map(shellWord).join(' ');
}
