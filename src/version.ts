import { readFileSync } from 'node:fs';

/** The package version, read once from package.json (one level above both src/ and dist/). */
export const packageVersion: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** `-V` of the BaseScript tools: `<tool> version X, Skytools version Y`, as upstream prints it. */
export function toolVersion(tool: string): string {
  return `${tool} version ${packageVersion}, Skytools version ${packageVersion}`;
}
