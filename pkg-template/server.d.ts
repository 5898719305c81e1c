// fieldgate/server: enforcement in Node backends (Express, Koa), on the same engine and the
// same signed bundle the browser uses.
import type { Engine, LoadOptions, Mode, Session, Subject } from 'fieldgate';

type Obj = Record<string, unknown>;

export interface PolicySourceOptions {
  /** Where the bundle is served (e.g. `http://policy:8080/v1/apps/acme-erp/bundle`); refreshed with `If-None-Match`. */
  url?: string;
  /** Or a bundle file (e.g. from `fieldgate serve --publish-dir`), re-read when it changes. */
  file?: string;
  /** Request headers for `url`, e.g. `{ authorization: 'Bearer <service token>' }`. */
  headers?: Record<string, string>;
  trustedKeys: LoadOptions['trustedKeys'];
  app?: string;
  minVersion?: number;
  /** A file that keeps the highest version loaded across restarts (the rollback floor): an older bundle is then refused with `rollback` even by a restarted backend. */
  floorFile?: string;
  /** How often to refresh, ms (default 30 000; 0 never). */
  refreshMs?: number;
  /** How long past its expiry a bundle still decides in full before the engine goes stale (view only), ms (default 0). */
  graceMs?: number;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
}

/** A verified policy bundle kept fresh from a URL or a file. */
export declare class PolicySource {
  constructor(options: PolicySourceOptions);
  readonly engine: Engine | null;
  readonly version: number;
  /** Loads the first bundle (throws if it cannot), then refreshes in the background. */
  start(): Promise<PolicySource>;
  /** Fetches or re-reads now; true when a new bundle was swapped in. Throws, keeping the previous one, on a bad bundle. */
  refresh(): Promise<boolean>;
  stop(): void;
  onError(listener: (error: Error) => void): () => void;
}

export interface GateOptions<Req> extends Partial<PolicySourceOptions> {
  /** A started source; without it one is made from these options. */
  source?: PolicySource;
  /** Who is calling (null: 401). */
  subject(req: Req): Subject | null | undefined;
  /** The decision context (`context.*` in conditions). */
  context?(req: Req): Obj | undefined;
}

/** What `authorize` leaves for the handler in `req.fieldgate` (Koa: `ctx.state.fieldgate`). */
export interface Authorized {
  session: Session;
  record?: Obj;
  version: number;
}

export interface WriteCheck<T> {
  ok: boolean;
  writable: Partial<T>;
  forbidden: string[];
}

/** Express `(req, res, next)` or Koa `(ctx, next)` middleware. */
export type Middleware = (...args: any[]) => Promise<unknown>;

export interface Gate<Req = any> {
  source: PolicySource;
  /** Lets the request through only if `action` on `resource` (on `getRecord`'s record) is allowed; else 401/403/404/503 `{code, message}`. */
  authorize(resource: string, action: string, getRecord?: (req: Req) => Obj | null | undefined | Promise<Obj | null | undefined>): Middleware;
  /** A record redacted for `mode` (default view), or a list without the records the caller may not view. */
  redact<T extends Obj>(req: Req, resource: string, record: T, mode?: Mode): Partial<T>;
  redact<T extends Obj>(req: Req, resource: string, records: T[], mode?: Mode): Partial<T>[];
  /** What of `data` the caller may write, and the paths they may not. */
  checkWrite<T extends Obj>(req: Req, resource: string, mode: Mode, record: Obj | null | undefined, data: T): WriteCheck<T>;
  /** After `authorize`: 403 `forbidden_fields` for a body writing more than allowed, or with `strip` the body narrowed. */
  guardWrite(resource: string, mode: Mode, options?: { strip?: boolean }): Middleware;
  stop(): void;
}

export declare function createGate<Req = any>(options: GateOptions<Req>): Promise<Gate<Req>>;
