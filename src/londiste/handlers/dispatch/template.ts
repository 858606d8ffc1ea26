/**
 * Python's `%(name)s` templates, as upstream's dispatch handler fills `part_name`,
 * `part_template`, `pre_part` and `post_part` (`%%` is a percent sign). A macro the caller
 * does not know is refused, so a typo stops add-table instead of a batch.
 */
import { SkytoolsError } from '../../../errors.js';

const macro = /%(?:\((\w+)\)s|%)/g;

/** The macros a template uses (its `%(name)s`). */
export function templateMacros(template: string): string[] {
  const names: string[] = [];
  for (const m of template.matchAll(macro)) if (m[1] !== undefined) names.push(m[1]);
  return names;
}

/** The template filled in; `what` names it in the error of an unknown macro. */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
  what: string,
): string {
  return template.replace(macro, (whole, name: string | undefined) => {
    if (name === undefined) return '%';
    const value = values[name];
    if (value === undefined) {
      throw new SkytoolsError(
        'BAD_CONFIG',
        `${what}: unknown macro ${whole} (known: ${Object.keys(values).join(', ')})`,
        { template, macro: name },
      );
    }
    return value;
  });
}
