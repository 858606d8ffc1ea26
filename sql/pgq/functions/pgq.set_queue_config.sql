-- pgq.set_queue_config(x_queue_name text, x_param_name text, x_param_value text) → integer
--
-- Change one setting of a queue. The name is the pgq.queue column without its `queue_`
-- prefix, one of: ticker_max_count, ticker_max_lag, ticker_idle_period, ticker_paused,
-- rotation_period, external_ticker. (Other columns - disable_insert, per_tx_limit,
-- extra_maint - are changed by UPDATE pgq.queue.) The value is text, converted to the
-- column's type.
--
-- Result: 1.
-- Tables written: pgq.queue.
create or replace function pgq.set_queue_config(
  x_queue_name text, x_param_name text, x_param_value text)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_column text;
begin
  if x_queue_name is null or x_param_name is null then
    raise exception 'Invalid NULL value'
      using hint = 'pgq.set_queue_config() needs a queue name and a parameter name';
  end if;

  perform 1 from pgq.queue where queue_name = x_queue_name;
  if not found then
    raise exception 'No such event queue'
      using detail = format('queue: %s', x_queue_name);
  end if;

  v_column := 'queue_' || x_param_name;
  if v_column not in ('queue_ticker_max_count', 'queue_ticker_max_lag',
                      'queue_ticker_idle_period', 'queue_ticker_paused',
                      'queue_rotation_period', 'queue_external_ticker') then
    -- Upstream's message text, stray "s" included: clients match on it.
    raise exception 'cannot change parameter "%s"', x_param_name
      using hint = 'settable: ticker_max_count, ticker_max_lag, ticker_idle_period, '
                   'ticker_paused, rotation_period, external_ticker';
  end if;

  execute format('update pgq.queue set %I = %L where queue_name = $1', v_column, x_param_value)
    using x_queue_name;
  -- A sleeping pgqd plans its next look by the old settings: let it look again.
  if pg_sequence_last_value('pgq.ticker_wakeup'::regclass) is not null then
    perform pgq._ticker_wakeup(x_queue_name);
  end if;
  return 1;
end;
$$;
