-- pgq.next_batch(i_queue_name, i_consumer_name): id of the consumer's next batch, or of its open
-- one (until pgq.finish_batch() it keeps getting the same batch).
--
-- Parameters: i_queue_name, i_consumer_name: the subscription.
-- Result: batch id, or NULL when there is no batch yet.
-- Writes: pgq.subscription (through pgq.next_batch_custom).
create or replace function pgq.next_batch(i_queue_name text, i_consumer_name text)
returns int8
language plpgsql
as $$
declare
  v_batch_id int8;
begin
  select n.batch_id into v_batch_id
    from pgq.next_batch_custom(i_queue_name, i_consumer_name, null, null, null) n;
  return v_batch_id;
end;
$$;
