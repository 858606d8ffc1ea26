-- pgq._generate_insert_functions() → void
--
-- Writes pgq.insert_event(7 args) and pgq.insert_event_raw with one static INSERT per data
-- table of every queue, so that producing an event runs cached plans instead of building and
-- planning a dynamic INSERT on every call (the dynamic statement made insert_event cost about
-- three times a plain INSERT). Called by create_queue and drop_queue in their transaction, and
-- by the installer; serialized by an advisory lock so concurrent callers do not update the same
-- pg_proc rows at once.
--
-- The generated hot path, in READ COMMITTED:
--   1. note whether the transaction already has a txid, then take it (before reading the
--      queue row; see pgq._insert_target);
--   2. find the queue's slot, queue_id * 65536 + queue_cur_table, NULL unless a plain insert
--      is allowed (inserts enabled, no per-transaction limit): from the transaction's cache
--      (below), else from pgq.queue;
--   3. binary search on the slot to that table's INSERT.
-- Anything else (another isolation level, unknown queue, inserts disabled, a per-transaction
-- limit, an explicit ev_id, a queue the generated code does not know yet) goes to
-- pgq._insert_event_general, which handles every case. Stale generated code is therefore
-- never wrong, only slower.
--
-- The per-transaction cache: reading pgq.queue is a third of an insert's server time. A
-- transaction that inserts again into the same queue reuses the slot its first read found,
-- kept in the transaction-local setting pgq.insert_cache ('<slot>|<queue name>'). That is
-- safe: once a transaction has read the current table after taking its txid, every later event
-- of that transaction may go to the same table (readers look at both tables from the switch
-- until step 2, and step 2 takes a txid after ours). Writing the setting costs more than the
-- read it saves, so it is written only when the transaction had a txid before the call (it
-- has written before, so more writes are likely); a one-event transaction never pays for it.
-- A change of queue_disable_insert or queue_per_tx_limit committed while a transaction runs
-- applies to that transaction's later inserts only when they are not served from the cache.
--
-- The generated insert_event is SECURITY DEFINER, as upstream's, but does not pin search_path:
-- the GUC change it costs on every call was a tenth of the whole insert. It is safe without it
-- because the generated text names every relation, function, type and operator with its
-- schema (`operator(pg_catalog.=)`), so nothing on the caller's search_path can stand in
-- (test/pgq/insert-hot-path.test.ts checks this with a hostile search_path).
--
-- Tables written: none (replaces two functions).
create or replace function pgq._generate_insert_functions()
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
  v_slots bigint[];
  v_leaves text[];
  v_event_values constant text :=
    'pg_catalog.now(), v_txid, null, null, insert_event.ev_type, insert_event.ev_data,'
    ' insert_event.ev_extra1, insert_event.ev_extra2, insert_event.ev_extra3,'
    ' insert_event.ev_extra4';
  v_raw_values constant text :=
    'coalesce(insert_event_raw.ev_time, pg_catalog.now()), v_txid, insert_event_raw.ev_owner,'
    ' insert_event_raw.ev_retry, insert_event_raw.ev_type, insert_event_raw.ev_data,'
    ' insert_event_raw.ev_extra1, insert_event_raw.ev_extra2, insert_event_raw.ev_extra3,'
    ' insert_event_raw.ev_extra4';
begin
  perform pg_advisory_xact_lock(hashtext('pgq._generate_insert_functions'));

  select coalesce(array_agg(s.slot order by s.slot), '{}'),
         coalesce(array_agg(s.leaf order by s.slot), '{}')
    into v_slots, v_leaves
    from (select q.queue_id::bigint * 65536 + t.n as slot,
                 format(E'insert into %s (ev_id, ev_time, ev_txid, ev_owner, ev_retry, ev_type,'
                        ' ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)\n'
                        '  values (pg_catalog.nextval(%L::pg_catalog.regclass), %%VALUES%%)\n'
                        '  returning ev_id into v_id;\n  return v_id;',
                        pgq.quote_fqname(q.queue_data_pfx || '_' || t.n::text),
                        pgq.quote_fqname(q.queue_event_seq)) as leaf
            from pgq.queue q, generate_series(0, q.queue_ntables - 1) t(n)) s;

  execute format($def$
create or replace function pgq.insert_event(
  queue_name text, ev_type text, ev_data text,
  ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint
language plpgsql
security definer
as %L$def$,
    pgq._insert_function_body(
      'pgq._insert_event_general(insert_event.queue_name, null, pg_catalog.now(), null, null,'
      ' insert_event.ev_type, insert_event.ev_data, insert_event.ev_extra1,'
      ' insert_event.ev_extra2, insert_event.ev_extra3, insert_event.ev_extra4)',
      'insert_event',
      'true',
      replace(pgq._insert_dispatch_tree(v_slots, v_leaves, 1, cardinality(v_slots)),
              '%VALUES%', v_event_values)));

  execute format($def$
create or replace function pgq.insert_event_raw(
  queue_name text, ev_id bigint, ev_time timestamptz, ev_owner integer, ev_retry integer,
  ev_type text, ev_data text, ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint
language plpgsql
as %L$def$,
    pgq._insert_function_body(
      'pgq._insert_event_general(insert_event_raw.queue_name, insert_event_raw.ev_id,'
      ' insert_event_raw.ev_time, insert_event_raw.ev_owner, insert_event_raw.ev_retry,'
      ' insert_event_raw.ev_type, insert_event_raw.ev_data, insert_event_raw.ev_extra1,'
      ' insert_event_raw.ev_extra2, insert_event_raw.ev_extra3, insert_event_raw.ev_extra4)',
      'insert_event_raw',
      'insert_event_raw.ev_id is null',
      replace(pgq._insert_dispatch_tree(v_slots, v_leaves, 1, cardinality(v_slots)),
              '%VALUES%', v_raw_values)));
end;
$$;

-- The body of a generated insert function: hot path for READ COMMITTED, then the general one.
-- p_general: the call of pgq._insert_event_general; p_fn: the function's name (qualifies the
-- parameters); p_fast_ok: an extra condition for the hot path; p_tree: the dispatch code.
create or replace function pgq._insert_function_body(
  p_general text, p_fn text, p_fast_ok text, p_tree text)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select format($body$
-- Generated by pgq._generate_insert_functions(); changes here are lost on the next queue.
#variable_conflict use_column
declare
  v_wrote pg_catalog.bool;
  v_txid pg_catalog.int8;
  v_cache pg_catalog.text;
  v_slot pg_catalog.int8;
  v_id pg_catalog.int8;
begin
  v_wrote := pg_catalog.pg_current_xact_id_if_assigned() is not null;
  v_txid := case when pg_catalog.current_setting('transaction_isolation')
                      operator(pg_catalog.=) 'read committed'
                 then pg_catalog.txid_current() end;
  if v_txid is not null and %3$s then
    if v_wrote then
      v_cache := pg_catalog.current_setting('pgq.insert_cache', true);
      if pg_catalog.substr(v_cache, pg_catalog.strpos(v_cache, '|') operator(pg_catalog.+) 1)
         operator(pg_catalog.=) %2$s.queue_name then
        v_slot := pg_catalog.split_part(v_cache, '|', 1)::pg_catalog.int8;
      end if;
    end if;
    if v_slot is null then
      select case when not q.queue_disable_insert and q.queue_per_tx_limit is null
                  then q.queue_id::pg_catalog.int8 operator(pg_catalog.*) 65536
                       operator(pg_catalog.+) q.queue_cur_table end
        into v_slot
        from pgq.queue q
       where q.queue_name operator(pg_catalog.=) %2$s.queue_name;
      if v_wrote and v_slot is not null then
        perform pg_catalog.set_config('pgq.insert_cache',
          v_slot::pg_catalog.text operator(pg_catalog.||) '|'
          operator(pg_catalog.||) %2$s.queue_name, true);
      end if;
    end if;
%4$s
  end if;
  return %1$s;
end;
$body$, p_general, p_fn, p_fast_ok, p_tree)
$$;

-- Binary search on v_slot over p_slots[p_lo..p_hi] (sorted), ending in the INSERT of that
-- slot's table from p_leaves; a handful of slots at the bottom are compared one by one. A slot
-- found nowhere (NULL, or a queue newer than this code) falls through to the general path.
create or replace function pgq._insert_dispatch_tree(
  p_slots bigint[], p_leaves text[], p_lo integer, p_hi integer)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
  v_mid integer;
  v_code text := '';
begin
  if p_hi < p_lo then
    return '';
  end if;
  if p_hi - p_lo < 4 then
    for i in p_lo .. p_hi loop
      v_code := v_code || format(E'%s v_slot operator(pg_catalog.=) %s then\n  %s\n',
                                 case when i = p_lo then 'if' else 'elsif' end,
                                 p_slots[i], p_leaves[i]);
    end loop;
    return v_code || 'end if;';
  end if;
  v_mid := (p_lo + p_hi + 1) / 2;
  return format(E'if v_slot operator(pg_catalog.<) %s then\n%s\nelse\n%s\nend if;',
                p_slots[v_mid], pgq._insert_dispatch_tree(p_slots, p_leaves, p_lo, v_mid - 1),
                pgq._insert_dispatch_tree(p_slots, p_leaves, v_mid, p_hi));
end;
$$;

