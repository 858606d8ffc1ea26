-- pgq_node.create_node(i_queue_name, i_node_type, i_node_name, i_worker_name,
--   i_provider_name, i_global_watermark, i_combined_queue) → (ret_code int4, ret_note text)
--
-- Make this database a node of a cascade. The node's own location must be registered first
-- (pgq_node.register_location), and on a branch or leaf the provider's too.
--   root:   creates the pgq queue and registers .global_watermark at its first tick;
--           provider, watermark and combined queue must be NULL; the worker "reads" from
--           the root itself.
--   branch: creates the pgq queue with an external ticker and inserts disabled (only the
--           worker writes into it, copying the provider's events and ticks); when the
--           watermark is past tick 1, that tick is created so the first copied batch has
--           its start; .global_watermark is registered there.
--   leaf:   no queue of its own; a combined queue (merge target) must exist here.
-- Then the node row and the worker's position (at the watermark, read from the provider).
--
-- Parameters:
--   i_queue_name        cascaded queue
--   i_node_type         'root', 'branch' or 'leaf'
--   i_node_name         this node's name
--   i_worker_name       name of the node's worker (also its pgq consumer on the provider)
--   i_provider_name     node the worker reads from (branch, leaf)
--   i_global_watermark  tick to start at, as register_subscriber on the provider returned it
--   i_combined_queue    leaf only: local queue that the merge-leaf worker feeds
-- Result: 200 'Node "<node>" initialized for queue "<queue>" with type "<type>"';
--   401 'Node already initialized', 'unexpected args for root', 'provider not set for branch',
--   'global watermark not set for branch', 'non-existing queue on leaf side: <queue>',
--   'bad node type: <type>'. Nothing is written on a 401.
-- Tables written: pgq_node.node_info, pgq_node.local_state; pgq.queue, pgq.tick,
--   pgq.subscription, pgq.consumer (through pgq's functions).
create or replace function pgq_node.create_node(
  in i_queue_name text,
  in i_node_type text,
  in i_node_name text,
  in i_worker_name text,
  in i_provider_name text,
  in i_global_watermark bigint,
  in i_combined_queue text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_provider text;
  v_watermark bigint;
begin
  perform 1 from pgq_node.node_info n where n.queue_name = i_queue_name;
  if found then
    ret_code := 401;
    ret_note := 'Node already initialized';
    return;
  end if;

  if i_node_type = 'root' then
    if i_provider_name is not null or i_global_watermark is not null
       or i_combined_queue is not null then
      ret_code := 401;
      ret_note := 'unexpected args for root';
      return;
    end if;
    v_provider := i_node_name;
    perform pgq.create_queue(i_queue_name);
    perform pgq.register_consumer(i_queue_name, '.global_watermark');
    select s.sub_last_tick into v_watermark
      from pgq.subscription s
      join pgq.queue q on q.queue_id = s.sub_queue
      join pgq.consumer c on c.co_id = s.sub_consumer
     where q.queue_name = i_queue_name and c.co_name = '.global_watermark';
  elsif i_node_type = 'branch' then
    if i_provider_name is null then
      ret_code := 401;
      ret_note := 'provider not set for branch';
      return;
    elsif i_global_watermark is null then
      ret_code := 401;
      ret_note := 'global watermark not set for branch';
      return;
    end if;
    v_provider := i_provider_name;
    v_watermark := i_global_watermark;
    perform pgq.create_queue(i_queue_name);
    update pgq.queue
       set queue_external_ticker = true, queue_disable_insert = true
     where queue_name = i_queue_name;
    -- create_queue made tick 1 itself.
    if v_watermark > 1 then
      perform pgq.ticker(i_queue_name, v_watermark, now(), 1);
    end if;
    perform pgq.register_consumer_at(i_queue_name, '.global_watermark', v_watermark);
  elsif i_node_type = 'leaf' then
    v_provider := i_provider_name;
    v_watermark := i_global_watermark;
    if i_combined_queue is not null then
      perform 1 from pgq.queue q where q.queue_name = i_combined_queue;
      if not found then
        ret_code := 401;
        ret_note := 'non-existing queue on leaf side: ' || i_combined_queue;
        return;
      end if;
    end if;
  else
    -- Upstream goes on to an insert that the CHECK constraint rejects; we stop here.
    ret_code := 401;
    ret_note := 'bad node type: ' || i_node_type;
    return;
  end if;

  insert into pgq_node.node_info (queue_name, node_type, node_name, worker_name, combined_queue)
  values (i_queue_name, i_node_type, i_node_name, i_worker_name, i_combined_queue);

  perform pgq_node.register_consumer(i_queue_name, i_worker_name, v_provider, v_watermark);

  ret_code := 200;
  ret_note := 'Node "' || i_node_name || '" initialized for queue "' || i_queue_name
              || '" with type "' || i_node_type || '"';
  return;
end;
$$;
