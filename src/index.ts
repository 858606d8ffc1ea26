export { quoteIdent, quoteLiteral, quoteQualified } from './db/quote.js';
export { SkytoolsError } from './errors.js';
export * from './pg/index.js';
export * from './pgq/index.js';
export { packageVersion } from './version.js';
