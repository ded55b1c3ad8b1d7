export interface HomingMessage {
  messageId: string;
  payload: Uint8Array;
  contentType: string;
  headers: Record<string, string>;
  createdAtMs: number;
  ttlMs: number;
}

export type HomingState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface HomingStateInfo {
  url?: string;
  transport?: 'websocket' | 'sse';
  userId?: string;
  deviceId?: string;
  nodeId?: string;
  reason?: string;
  delayMs?: number;
}

export interface HomingClientOptions {
  urls: string[];
  token: string | (() => string | Promise<string>);
  lastSeq?: number | string | bigint;
  streamEpoch?: number | string | bigint;
  encoding?: 'json' | 'binary';
  transport?: 'websocket' | 'sse' | 'auto';
  onMessage?: (seq: number, message: HomingMessage) => void | Promise<void>;
  onState?: (state: HomingState, info: HomingStateInfo) => void;
  onError?: (error: HomingError) => void;
  backoff?: { min?: number; max?: number };
}

export declare const DEFAULT_BACKOFF: Readonly<{ min: number; max: number }>;

export declare class HomingError extends Error {
  readonly code: string;
}

export declare class HomingClient {
  constructor(options: HomingClientOptions);
  readonly lastDelivered: number;
  readonly streamEpoch: string;
  readonly state: HomingState;
  readonly sessions: number;
  readonly stopped: Promise<void>;
  start(): this;
  close(): Promise<void>;
}

export declare function backoffMillis(attempt: number, backoff: { min: number; max: number }): number;

export declare function judgeEnd(end: {
  authError?: { code: string; message: string } | null;
  error?: { code: string; message: string } | null;
  gap?: string | null;
  closeCode?: number;
  tokenIsFunction?: boolean;
}): { stop: boolean; code: string | null; message: string | null };
