-- pgq_node.set_subscriber_watermark(i_queue_name, i_node_name, i_watermark)
--   → (ret_code int4, ret_note text)
--
-- Called on a provider by a subscriber's worker to report the subscriber's local watermark
-- (the lowest position its subtree still needs): moves .<node>.watermark forward to it, so
-- the provider may rotate away what nobody below needs any more. Concurrent reports for one
-- subscriber are serialized on its subscription row, so it never moves back.
--
-- Parameters:
--   i_queue_name  cascaded queue
--   i_node_name   subscriber node
--   i_watermark   its local watermark, a tick of this queue
-- Result: 200 '.<node>.watermark set to <tick>'; 100 'watermark already set';
--   405 'watermark must not be moved backwards';
--   404 'node <node> not subscribed to queue ' (upstream's text, without the queue name).
-- Errors: 'cannot reposition, tick not found: <tick>' (pgq) for a tick this queue lacks.
-- A NULL watermark moves nothing and, as upstream, returns 200 with a NULL note.
-- Tables written: pgq.subscription.
create or replace function pgq_node.set_subscriber_watermark(
  in i_queue_name text,
  in i_node_name text,
  in i_watermark bigint,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_watermark_name text;
  v_current bigint;
begin
  select s.watermark_name into v_watermark_name
    from pgq_node.subscriber_info s
   where s.queue_name = i_queue_name and s.subscriber_node = i_node_name;
  if not found then
    ret_code := 404;
    ret_note := 'node ' || i_node_name || ' not subscribed to queue ';
    return;
  end if;

  select s.sub_last_tick into v_current
    from pgq.subscription s
    join pgq.queue q on q.queue_id = s.sub_queue
    join pgq.consumer c on c.co_id = s.sub_consumer
   where q.queue_name = i_queue_name and c.co_name = v_watermark_name
     for update of s;

  if i_watermark < v_current then
    ret_code := 405;
    ret_note := 'watermark must not be moved backwards';
    return;
  elsif i_watermark = v_current then
    ret_code := 100;
    ret_note := 'watermark already set';
    return;
  end if;

  perform pgq.register_consumer_at(i_queue_name, v_watermark_name, i_watermark);

  ret_code := 200;
  ret_note := v_watermark_name || ' set to ' || i_watermark;
  return;
end;
$$;
