import type { QueryResult, QueryResultRow } from 'pg';

/**
 * Anything that runs a query: a `pg` Client, Pool or PoolClient, or a wrapper of the caller's.
 * Library calls whose effect belongs in the caller's transaction take one of these, so the work
 * commits or rolls back with the caller's own.
 */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<R>>;
}
