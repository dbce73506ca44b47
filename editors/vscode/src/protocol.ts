/**
 * The custom part of the Ghostwriter protocol, mirrored from the server's `lsp_server/protocol.py`.
 * A Python test checks that these strings match the server's.
 */

/** Server → client: the usage summary behind the status bar item. */
export const USAGE_NOTIFICATION = 'ghostwriter/usage';
/** Client → server: acceptance statistics for inline completions. */
export const DID_SHOW_COMPLETION = 'ghostwriter/didShowCompletion';
export const DID_ACCEPT_COMPLETION = 'ghostwriter/didAcceptCompletion';
/** Client → server: a next-edit suggestion (request), and what became of one (notification). */
export const NEXT_EDIT_REQUEST = 'ghostwriter/nextEdit';
export const NEXT_EDIT_OUTCOME = 'ghostwriter/nextEditOutcome';

/** workspace/executeCommand commands served by the language server. */
export const ServerCommands = {
  explain: 'ghostwriter.explain',
  showUsage: 'ghostwriter.showUsage',
  resetUsage: 'ghostwriter.resetUsage',
  showLastPrompt: 'ghostwriter.showLastPrompt',
  applyAction: 'ghostwriter.applyAction',
  acceptDiff: 'ghostwriter.acceptDiff',
  rejectDiff: 'ghostwriter.rejectDiff',
  completionStats: 'ghostwriter.completionStats',
  /** Attached by the server to inline completion items; VS Code runs it on acceptance. */
  completionAccepted: 'ghostwriter.completionAccepted',
} as const;

/**
 * Commands that exist only in this extension. They must not reuse a server command id: the
 * language client registers every command the server advertises under its own id.
 */
export const ClientCommands = {
  explain: 'ghostwriterClient.explain',
  showUsage: 'ghostwriterClient.showUsage',
  resetUsage: 'ghostwriterClient.resetUsage',
  showLastPrompt: 'ghostwriterClient.showLastPrompt',
  restartServer: 'ghostwriterClient.restartServer',
  showOutput: 'ghostwriterClient.showOutput',
  /** Internal: attached to inline completion items, reports an acceptance to the server. */
  didAcceptCompletion: 'ghostwriterClient.didAcceptCompletion',
  /** Next-edit suggestions (src/nextEditController.ts). */
  nextEditTrigger: 'ghostwriterClient.nextEdit.trigger',
  nextEditJump: 'ghostwriterClient.nextEdit.jump',
  nextEditAccept: 'ghostwriterClient.nextEdit.accept',
  nextEditDismiss: 'ghostwriterClient.nextEdit.dismiss',
  /** Internal: what Tab does while a next edit is shown (jump, then accept). */
  nextEditTab: 'ghostwriterClient.nextEdit.tab',
} as const;

export const SERVER_SECTION = 'ghostwriter';
export const CLIENT_SECTION = 'ghostwriterClient';

export interface UsageTally {
  requests: number;
  promptTokens: number;
  cachedPromptTokens: number;
  completionTokens: number;
  cacheHits: number;
  cost: number;
  currency: string;
  unpricedRequests?: number;
  savedCost?: number;
  /** Calls whose usage the endpoint never reported: their figures are the server's estimate. */
  estimatedRequests?: number;
  /** Secrets, e-mail and private addresses replaced by placeholders in what was sent. */
  redactedSpans?: number;
}

export interface LastRequest {
  feature: string;
  model: string;
  promptTokens: number;
  cachedPromptTokens: number;
  completionTokens: number;
  durationMs: number;
  cost: number | null;
  fromCache?: boolean;
  currency?: string;
  estimated?: boolean;
}

export interface BudgetStatus {
  unit?: 'money' | 'tokens' | string;
  dailyLimit?: number;
  sessionLimit?: number;
  dailyUsed?: number;
  sessionUsed?: number;
  exceeded?: boolean;
  message?: string;
}

export type ServerState = 'ready' | 'busy' | 'paused' | 'error';

export interface UsageSummary {
  session?: UsageTally;
  today?: UsageTally;
  last?: LastRequest | null;
  budget?: BudgetStatus | null;
  state?: ServerState;
  message?: string;
}

/** Result of `ghostwriter.completionStats`. */
export interface CompletionStats {
  requests?: number;
  shown?: number;
  accepted?: number;
  acceptedChars?: number;
  modelCalls?: number;
  typedAheadHits?: number;
  acceptRate?: number | null;
  gated?: Record<string, number>;
}
