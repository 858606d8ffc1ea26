-- pgq_coop.register_subconsumer(i_queue_name, i_consumer_name, i_subconsumer_name) → integer:
-- join a subconsumer to a cooperative consumer, registering the main consumer when needed.
--
-- The subconsumer is a pgq consumer named '<consumer>.<subconsumer>'. Its subscription row
-- takes the main consumer's sub_id, so retry events of the group reach whichever member gets
-- the next batch, and has no ticks while it holds no batch (the main row keeps the position).
--
-- Parameters:
--   i_queue_name        queue name
--   i_consumer_name     main consumer name
--   i_subconsumer_name  subconsumer name, unique within the main consumer
-- Result: 1 = newly registered; 0 = already registered (nothing changes).
-- Errors: those of pgq.register_consumer ('Event queue not created yet', 'No ticks for this
--   queue.  Please run ticker on database.'), 'Invalid NULL value', 'main consumer not found'.
-- Tables written: pgq.consumer, pgq.subscription.
create or replace function pgq_coop.register_subconsumer(
  i_queue_name text,
  i_consumer_name text,
  i_subconsumer_name text)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_subcon_name text := i_consumer_name || '.' || i_subconsumer_name;
  v_result integer;
  v_queue_id integer;
  v_main_sub_id integer;
  v_subcon_id integer;
begin
  if i_consumer_name is null or i_subconsumer_name is null then
    raise exception 'Invalid NULL value'
      using detail = format('consumer: %s, subconsumer: %s',
                            coalesce(i_consumer_name, '<NULL>'),
                            coalesce(i_subconsumer_name, '<NULL>'));
  end if;

  perform pgq.register_consumer(i_queue_name, i_consumer_name);
  v_result := pgq.register_consumer(i_queue_name, v_subcon_name);
  if v_result = 0 then
    return 0;
  end if;

  select q.queue_id, s.sub_id into v_queue_id, v_main_sub_id
    from pgq.queue q
    join pgq.subscription s on s.sub_queue = q.queue_id
    join pgq.consumer c on c.co_id = s.sub_consumer
   where q.queue_name = i_queue_name
     and c.co_name = i_consumer_name
     for share of s;
  if not found then
    -- Registered a moment ago in this transaction: only a concurrent unregister of the main
    -- consumer gets here.
    raise exception 'main consumer not found'
      using detail = format('queue: %s, consumer: %s', i_queue_name, i_consumer_name);
  end if;

  select c.co_id into v_subcon_id from pgq.consumer c where c.co_name = v_subcon_name;
  update pgq.subscription
     set sub_id = v_main_sub_id,
         sub_last_tick = null,
         sub_next_tick = null,
         sub_batch = null
   where sub_queue = v_queue_id
     and sub_consumer = v_subcon_id;
  return 1;
end;
$$;
