export { Config, type ConfigOptions } from './config.js';
export { ConfigError } from './errors.js';
export { expandHome, parseIni, readIniFile } from './ini.js';
