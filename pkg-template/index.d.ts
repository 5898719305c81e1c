/** A field's state, lowest first. */
export type FieldState = 'hidden' | 'masked' | 'readonly' | 'editable';
/** The form a user is looking at. */
export type Mode = 'view' | 'create' | 'edit';
/** State names by state code (0 hidden, 1 masked, 2 readonly, 3 editable). */
export declare const STATES: readonly ['hidden', 'masked', 'readonly', 'editable'];

/** Stable error codes (policy, bundle and request errors). */
export type ErrorCode =
  | 'bad_json' | 'too_large' | 'too_deep' | 'wrong_type' | 'missing_key' | 'unknown_key' | 'bad_format'
  | 'bad_version' | 'bad_name' | 'unknown_role' | 'unknown_template' | 'unknown_resource' | 'unknown_field'
  | 'unknown_action' | 'unknown_department' | 'bad_state' | 'bad_scope' | 'bad_effect' | 'bad_mask'
  | 'bad_condition' | 'condition_too_long' | 'condition_too_deep' | 'scope_needs_owner'
  | 'scope_needs_department' | 'duplicate_rule_id' | 'duplicate' | 'department_cycle' | 'role_cycle'
  | 'too_many_actions' | 'bad_request' | 'bad_bundle' | 'unknown_key' | 'bad_signature' | 'bad_policy'
  | 'wrong_app' | 'rollback' | 'expired' | 'not_yet_valid' | 'wrong_subject' | 'bad_key'
  | 'not_initialized' | 'freed' | 'internal';

/** One mistake in a policy, located by its JSON path. */
export interface PolicyErrorDetail {
  path: string;
  code: ErrorCode;
  message: string;
  position?: number;
}

/** Every error this package throws. */
export declare class FieldgateError extends Error {
  readonly name: 'FieldgateError';
  /** Stable code. */
  readonly code: ErrorCode;
  /** JSON path of a policy mistake (the first one). */
  readonly path?: string;
  /** Every policy mistake, for `bad_policy` and unverified policies. */
  readonly errors?: PolicyErrorDetail[];
}

/** Who a session decides for. */
export interface Subject {
  id: string;
  roles?: string[];
  department?: string | null;
  groups?: string[];
  attrs?: Record<string, unknown>;
}

/** How a bundle is trusted. */
export interface LoadOptions {
  /** Base64 Ed25519 public keys (the `signing.pub` format). */
  trustedKeys: string[];
  /** How many distinct trusted keys must have signed (default 1). */
  threshold?: number;
  /** The app the bundle must be for. */
  app?: string;
  /** The lowest acceptable version: the highest you have seen. */
  minVersion?: number;
  /** The current time in ms (default `Date.now()`). */
  now?: number;
  /** Clock skew allowed on issue and expiry, ms (default 5 minutes). */
  skewMs?: number;
  /** Input size limit in bytes (default 8 MiB). */
  maxBytes?: number;
  /** The current user: a bundle minimized for someone else is refused (`wrong_subject`). */
  user?: string;
  /** Where the .wasm lives, for apps that host it themselves. */
  wasm?: InitInput;
}

/** A JSON or binary bundle. */
export type BundleInput = string | Uint8Array | ArrayBuffer;
/** What `init` accepts. */
export type InitInput = string | URL | Request | Response | BufferSource | WebAssembly.Module;

/** A decision, for audit. */
export interface DecisionEvent {
  subject: string;
  action: string;
  resource: string;
  allow: boolean;
  version: number;
  at: number;
}

/** Why a decision came out as it did. */
export interface Explanation {
  action: string;
  resource: string;
  allow: boolean;
  reason: 'allowed' | 'no_grant' | 'denied_by_rule';
  denied_by: string[];
  grants: { id: string; source: 'role' | 'template' | 'user'; name: string; via_roles: string[]; applies: boolean; lists_action: boolean }[];
  rules: { id: string; effect: 'deny' | 'limit'; applies: boolean; lists_action: boolean }[];
  mode: Mode;
  fields: { name: string; state: FieldState; set_by: string | null; granted: FieldState; capped_by: string | null }[];
}

/** An operand of a scope-filter tree. */
export type FilterOperand =
  | { attr: string } | { value: unknown } | { context: string } | { user: string } | { list: FilterOperand[] };
/** A scope-filter condition tree. */
export type FilterTree =
  | boolean
  | { and: FilterTree[] } | { or: FilterTree[] } | { not: FilterTree }
  | { op: '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'contains'; left: FilterOperand; right: FilterOperand }
  | { truthy: FilterOperand };

type Obj = Record<string, unknown>;

/** Loads the wasm module once; `Engine.load` does it for you. */
export declare function init(urlOrBytes?: InitInput): Promise<void>;

/** A verified policy and the sessions made from it. */
export declare class Engine {
  /** Verifies a signed bundle (JSON or binary) and loads it. */
  static load(bundle: BundleInput, options: LoadOptions): Promise<Engine>;
  /** Synchronous start: hand over the .wasm bytes. */
  static loadSync(bundle: BundleInput, wasmBytes: BufferSource | WebAssembly.Module, options: LoadOptions): Engine;
  /** NO signature check: previews and tests only. */
  static fromPolicyUnverified(policy: string | object): Engine;
  readonly app: string;
  readonly version: number;
  readonly issuedAt: string | null;
  readonly expiresAt: string | null;
  readonly keyId: string | null;
  /** The user a minimized bundle is bound to. */
  readonly subject: string | null;
  /** Stale mode: fields at most readonly, every action but `view` denied. */
  stale: boolean;
  resources(): string[];
  fields(resource: string): string[];
  actions(resource: string): string[];
  /** A session for one user; a malformed subject throws `bad_request` here. */
  session(subject: Subject): Session;
  /** Atomic: on any failure it throws and the current policy stays in force. */
  update(bundle: BundleInput, options?: LoadOptions): Promise<Engine>;
  /** Returns a function that removes the listener. */
  onDecision(listener: (event: DecisionEvent) => void): () => void;
  /** Returns a function that removes the listener. */
  onUpdate(listener: (engine: Engine) => void): () => void;
  /** Releases the policy's wasm memory now; the engine and its sessions throw afterwards. */
  free(): void;
}

/** One user's decisions. */
export declare class Session {
  readonly subject: Subject;
  can(action: string, resource: string, record?: Obj | null, context?: Obj | null): boolean;
  fields(resource: string, mode: Mode, record?: Obj | null, context?: Obj | null): Record<string, FieldState>;
  fieldStates(resource: string, mode: Mode, record?: Obj | null, context?: Obj | null): Uint8Array;
  redact<T extends Obj>(resource: string, mode: Mode, record: T, context?: Obj | null): Partial<T>;
  writable<T extends Obj>(resource: string, mode: Mode, record: Obj | null | undefined, formData: T, context?: Obj | null): Partial<T>;
  form(resource: string, mode: Mode, record?: Obj | null, context?: Obj | null): { actions: Record<string, boolean>; fields: Record<string, FieldState> };
  canMany(action: string, resource: string, records: Obj[], context?: Obj | null): Uint8Array;
  explain(action: string, resource: string, record?: Obj | null, context?: Obj | null): Explanation;
  scopeFilter(resource: string, action: string, context?: Obj | null): FilterTree;
  filter<T extends Obj>(resource: string, action: string, records: T[], context?: Obj | null): T[];
  roles(): string[];
  /** Releases the session's wasm memory now (it is also released when collected). */
  free(): void;
}

/** Where a BundleStore keeps its data (values are JSON-able). */
export interface StoreBackend {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}
/** A backend in memory (tests, server-side rendering). */
export declare function memoryStorage(): StoreBackend;

/** What a BundleStore needs: load options plus who and where. */
export interface BundleStoreOptions extends Omit<LoadOptions, 'now'> {
  app: string;
  user: string;
  /** Default: IndexedDB, else localStorage, else memory. */
  storage?: StoreBackend;
  /** Opt in: how long an expired bundle still serves (status `grace`); past it, `stale` mode. */
  graceMs?: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/** The state of a BundleStore. */
export type StoreStatus = 'empty' | 'fresh' | 'grace' | 'stale';

/** Keeps the last verified bundle and the highest version seen, per app and user. */
export declare class BundleStore {
  constructor(options: BundleStoreOptions);
  readonly engine: Engine | null;
  readonly version: number;
  readonly highestVersion: number;
  readonly status: StoreStatus;
  onChange(listener: (e: { status: StoreStatus; version: number }) => void): () => void;
  /** Cache first, then `fetcher` (null/undefined = nothing newer) in the background. */
  start(fetcher?: () => Promise<BundleInput | null | undefined>): Promise<Engine | null>;
  refresh(fetcher: () => Promise<BundleInput | null | undefined>): Promise<Engine | null>;
  /** Forget everything for this app and user (logout). */
  wipe(): Promise<void>;
  close(): void;
}

/** A queued decision event: the event, its log's id and its links. */
export type ChainedDecision = DecisionEvent & {
  /** The log (device, browser profile) the chain comes from. */
  chain: string;
  /** The hash of the entry before, null for a chain's first. */
  prev: string | null;
  /** SHA-256 (hex) of the entry's JSON without `hash`. */
  hash: string;
};

/** A hash-chained queue of decision events for the server; appends never race. */
export declare class DecisionLog {
  constructor(options: { app: string; user: string; storage?: StoreBackend });
  append(event: DecisionEvent): Promise<ChainedDecision>;
  pending(): Promise<ChainedDecision[]>;
  /** Sends the queue; drops what was sent when `send` resolves. Resolves to how many. */
  flush(send: (entries: ChainedDecision[]) => Promise<unknown>): Promise<number>;
  /** The index of the first broken link, or -1. */
  static verify(entries: { prev: string | null; hash: string }[], prev?: string | null): Promise<number>;
}
