/** What the global setup tells every test file about the run's shared cluster. */
export interface SharedCluster {
  host: string;
  port: number;
  user: string;
  pgVersion: string;
  pgMajor: number;
  /** The binary directory the run uses; extra clusters use the same. */
  binDir: string;
  /** Database every test database is cloned from (schemas get installed here once). */
  templateDatabase: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    sharedCluster: SharedCluster;
  }
}

export const templateDatabase = 'skytools_test_template';
