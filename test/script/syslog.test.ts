import { afterAll, describe, expect, it } from 'vitest';
import { SkytoolsError } from '../../src/errors.js';
import { createScriptLogger } from '../../src/script/index.js';
import { startSyslogReceiver } from './syslog-receiver.js';

const receiver = await startSyslogReceiver();
afterAll(() => receiver.close());

describe('syslog output (syslog = 1)', () => {
  it('sends every line with its priority, ident and pid, without our time prefix', async () => {
    const log = createScriptLogger({
      console: false,
      syslog: { ident: 'pgqd-test', facility: 'local3', socket: receiver.socket },
    });
    log.logger.info('ticker started');
    log.logger.child({ db: 'd1', queue: 'q' }).error('tick failed');
    // local3 = 19: info = 19*8+6 = 158, error = 19*8+3 = 155.
    const info = await receiver.waitFor(/ticker started/);
    expect(info).toMatch(new RegExp(`^<158>.*pgqd-test\\[${process.pid}\\]: INFO ticker started$`));
    const error = await receiver.waitFor(/tick failed/);
    expect(error).toMatch(/^<155>.*: ERROR \[db=d1 queue=q\] tick failed$/);
    log.close();
  });

  it('refuses an unknown facility by name', () => {
    expect(() =>
      createScriptLogger({ console: false, syslog: { ident: 'x', facility: 'nonsense' } }),
    ).toThrow(SkytoolsError);
  });
});
