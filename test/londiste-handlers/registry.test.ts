/**
 * Upstream's handlers in the registry: every name upstream registers (and its aliases) is
 * built in, and an upstream INI's `handler_modules` naming its Python modules loads nothing
 * and fails nothing, so the INI works as it is; the stored attribute reads back as written.
 */
import { describe, expect, it } from 'vitest';
import {
  formatTableAttrs,
  listHandlers,
  loadHandlerModules,
  parseHandlerSpec,
} from '../../src/londiste/handlers/registry.js';

describe('the built-in handlers', () => {
  it('are registered under upstream names', () => {
    expect(listHandlers().map((h) => h.name)).toEqual(
      expect.arrayContaining([
        'londiste',
        'vtable',
        'fake_local',
        'qtable',
        'qsplitter',
        'applyfn',
        'bulk',
        'shard',
        'part',
      ]),
    );
  });

  it("skip upstream's Python modules in handler_modules", async () => {
    expect(
      await loadHandlerModules([
        'londiste.handlers.bulk',
        'londiste.handlers.shard',
        'londiste.handlers',
      ]),
    ).toEqual([]);
    await expect(loadHandlerModules(['londiste.handlers.bulk.x'])).rejects.toThrow(
      'handler module londiste.handlers.bulk.x could not be loaded',
    );
  });

  it('store their spec as upstream does (its lower-case escapes)', () => {
    const attrs = formatTableAttrs({
      name: 'applyfn',
      args: { func_name: 'f', func_conf: 'a&b=c' },
    });
    expect(attrs).toBe('handler=applyfn%28func_name%3df%26func_conf%3da%2526b%253dc%29');
    expect(parseHandlerSpec(attrs)).toEqual({
      name: 'applyfn',
      args: { func_name: 'f', func_conf: 'a&b=c' },
    });
  });
});
