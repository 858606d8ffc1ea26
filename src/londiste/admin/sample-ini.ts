/** `londiste --ini`: every key of upstream's INI (spec §6.1) with its default, most commented out. */
export const sampleIni = `[londiste]
## the job name: worker and consumer name, log and pid file names
job_name = londiste_node1

## the local node's database
db = dbname=node1

## the cascaded queue (compat: pgq_queue_name)
queue_name = replika

logfile = log/%(job_name)s.log
pidfile = pid/%(job_name)s.pid

## create-root/branch/leaf defaults for NAME, PUBLIC_CONNSTR and --provider
#node_name = node1
#public_node_location = dbname=node1 host=127.0.0.1
#initial_provider_location = dbname=root host=127.0.0.1

## appended to the public connect strings of other nodes (user=, sslmode=, ...)
#remote_extra_connstr =

## seconds between batches when idle; reconnect after this many seconds
#loop_delay = 1.0
#connection_lifetime = 1200

## tables copied at once at most
#parallel_copies = 1

## tables (globs) copied by several processes at once, and how many
#threaded_copy_tables =
#threaded_copy_pool_size = 1

## fetch only events of tables replicated here (and pgq.*, londiste.*, EXECUTE)
#local_only = false
## with local_only, drop EXECUTE events too
#local_only_drop_execute = false

## seconds: statement_timeout of admin DDL; how long compare and repair wait for the point
#lock_timeout = 10

## compare's query per table (_TABLE_, _COLS_) and the format of its result line
#compare_sql =
#compare_fmt =

## which of the provider's tables and sequences a new branch or leaf registers (globs)
#register_only_tables =
#register_only_seqs =
#register_skip_tables =
#register_skip_seqs =

## modules that provide handlers besides the built-in ones
#handler_modules =

## shard handler: hash function and the query giving shard_nr, shard_mask
#shard_hash_func = partconf.get_hash_raw
#shard_info_sql = select shard_nr, shard_mask, shard_count from partconf.conf

## obfuscate handler: YAML rules per table and column, and the hashing key
#obfuscator_map =
#obfuscator_key =
`;
