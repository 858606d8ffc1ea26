/** `--ini` output: the tool's sample with `--set` overrides merged in, as upstream prints it. */
export function withOverrides(sample: string, overrides: Record<string, string>): string {
  let text = sample;
  for (const [key, value] of Object.entries(overrides)) {
    const line = new RegExp(
      `^#?[ \\t]*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[ \\t]*=.*$`,
      'm',
    );
    text = line.test(text)
      ? text.replace(line, `${key} = ${value}`)
      : `${text.replace(/\n*$/, '\n')}${key} = ${value}\n`;
  }
  return text;
}
