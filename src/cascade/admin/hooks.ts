/**
 * What a tool built on the cascade (Londiste) adds to the admin commands: work after a node
 * is created (install its schema, copy the provider's table list) and steps after a
 * takeover (move its own state to the new node). They run through the same AdminSession,
 * so `--dry-run` and the output rules hold for them too: changes through `session.change`
 * or `session.execute` are printed instead of made in a dry run.
 */
import type { NodeType } from '../node-calls.js';
import type { AdminSession } from './session.js';
import type { Step } from './takeover-steps.js';

export interface CreatedNode {
  name: string;
  type: NodeType;
  /** Its public location. */
  location: string;
  /** A branch's or leaf's provider, as given (a connect string); null for a root. */
  provider: string | null;
}

export interface TakeoverDone {
  /** switchover: a live root; failover: a dead root; branch: a branch or leaf position. */
  kind: 'switchover' | 'failover' | 'branch';
  oldNode: string;
  newNode: string;
}

/** A takeover about to change the cascade: every check of the cascade's own has passed. */
export interface TakeoverPlan extends TakeoverDone {
  /** `--force`: the operator accepts what the checks would refuse. */
  force: boolean;
}

export interface AdminHooks {
  /**
   * After create-root/branch/leaf checked the local database and installed pgq and pgq_node,
   * before anything registers the node: a throw leaves no node behind (install the tool's
   * own schema here).
   */
  beforeCreateNode?(session: AdminSession, node: CreatedNode): Promise<void>;
  /**
   * After create-root/branch/leaf made the node (its schemas, location, subscription), on
   * the local database (`session.local()`); a throw fails the command (the node stays).
   */
  afterCreateNode?(session: AdminSession, node: CreatedNode): Promise<void>;
  /**
   * The tool's own preflight of a takeover, after the cascade's checks and before any change:
   * a throw refuses the takeover with nothing changed.
   */
  beforeTakeover?(session: AdminSession, plan: TakeoverPlan): Promise<void>;
  /**
   * Steps the tool runs after a takeover's own steps succeeded, reported and resumable as
   * those are (takeover-steps.ts).
   */
  takeoverSteps?(session: AdminSession, done: TakeoverDone): Promise<Step[]> | Step[];
}
