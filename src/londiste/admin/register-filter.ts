/**
 * `register_only_tables` / `register_skip_tables` (and `_seqs`): which of the set's names a
 * branch or leaf takes over from its provider at create-* and from `londiste.add-table`
 * events. Globs over stored names; no only-list means every name.
 */
import { globMatcher } from '../table-names.js';

export function registerFilter(
  only: readonly string[] | undefined,
  skip: readonly string[] | undefined,
): (name: string) => boolean {
  const onlyMatch = only?.map(globMatcher);
  const skipMatch = (skip ?? []).map(globMatcher);
  return (name) =>
    (onlyMatch === undefined || onlyMatch.some((m) => m(name))) && !skipMatch.some((m) => m(name));
}
