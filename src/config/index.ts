export { Config, type ConfigOptions } from './config.js';
export { ConfigError } from './errors.js';
export { expandHome, parseIni, readIniFile } from './ini.js';
export {
  baseConsumerKeys,
  baseScriptKeys,
  cascadedWorkerKeys,
  closeMatch,
  dbScriptKeys,
  describeUnknownKey,
  findUnknownKeys,
  jobProcessKeys,
  refuseUnknownKeys,
  type UnknownKey,
  warnUnknownKeys,
} from './known-keys.js';
