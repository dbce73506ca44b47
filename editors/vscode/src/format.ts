/** Pure formatting of usage summaries (no vscode import, so it is easy to reason about and test). */

import type { BudgetStatus, LastRequest, UsageSummary, UsageTally } from './protocol';

const CURRENCY_SYMBOLS: Record<string, string> = { USD: '$', EUR: '€', GBP: '£', JPY: '¥', CNY: '¥' };

export function formatTokens(n: number | undefined): string {
  const value = n ?? 0;
  if (value < 1000) {
    return String(value);
  }
  if (value < 1_000_000) {
    return `${(value / 1000).toFixed(value < 10_000 ? 1 : 0)}k`;
  }
  return `${(value / 1_000_000).toFixed(value < 10_000_000 ? 2 : 1)}M`;
}

export function formatMoney(amount: number | null | undefined, currency = 'USD'): string {
  if (amount === null || amount === undefined) {
    return 'price unknown';
  }
  const digits = amount === 0 ? 2 : amount < 0.01 ? 4 : amount < 1 ? 3 : 2;
  const symbol = CURRENCY_SYMBOLS[currency];
  const number = amount.toFixed(digits);
  return symbol ? `${symbol}${number}` : `${number} ${currency}`;
}

export function totalTokens(tally: UsageTally | undefined): number {
  return (tally?.promptTokens ?? 0) + (tally?.completionTokens ?? 0);
}

/** "1.2k tok · 3 hits · $0.0042" for the status bar. */
export function statusSummary(summary: UsageSummary): string {
  const session = summary.session;
  // Figures the endpoint never reported are estimates: "~" says so instead of presenting them as billed.
  const approx = session?.estimatedRequests ? '~' : '';
  const parts = [`${approx}${formatTokens(totalTokens(session))} tok`];
  if (session?.cacheHits) {
    parts.push(`${session.cacheHits} ${session.cacheHits === 1 ? 'hit' : 'hits'}`);
  }
  const priced = (session?.requests ?? 0) > (session?.unpricedRequests ?? 0);
  if (priced || !session?.requests) {
    parts.push(approx + formatMoney(session?.cost ?? 0, session?.currency));
  } else {
    parts.push('price unknown');
  }
  if (session?.redactedSpans) {
    parts.push(`${session.redactedSpans} redacted`);
  }
  return parts.join(' · ');
}

export function tallyLine(tally: UsageTally | undefined): string {
  if (!tally) {
    return 'no data';
  }
  const cached = tally.cachedPromptTokens ? ` (${formatTokens(tally.cachedPromptTokens)} cached)` : '';
  const unpriced = tally.unpricedRequests ? `, ${tally.unpricedRequests} unpriced` : '';
  const estimated = tally.estimatedRequests ? ` (${tally.estimatedRequests} estimated)` : '';
  const redacted = tally.redactedSpans ? ` · ${tally.redactedSpans} secrets redacted` : '';
  return (
    `${tally.requests} requests${estimated} · ${formatTokens(tally.promptTokens)} prompt${cached} + ` +
    `${formatTokens(tally.completionTokens)} completion tokens · ${tally.cacheHits} cache hits · ` +
    `${formatMoney(tally.cost, tally.currency)}${unpriced}${redacted}`
  );
}

export function lastLine(last: LastRequest | null | undefined, currency = 'USD'): string {
  if (!last) {
    return 'no request yet';
  }
  const source = last.fromCache ? 'cache hit' : `${Math.round(last.durationMs)} ms`;
  const cached = last.cachedPromptTokens ? ` (${last.cachedPromptTokens} cached)` : '';
  const estimated = last.estimated ? ' (estimated)' : '';
  return (
    `${last.feature} · ${last.model || 'unknown model'} · ${last.promptTokens}${cached} + ` +
    `${last.completionTokens} tokens${estimated} · ${source} · ${formatMoney(last.cost, last.currency ?? currency)}`
  );
}

export function budgetLine(budget: BudgetStatus | null | undefined, currency = 'USD'): string | undefined {
  if (!budget || (!budget.dailyLimit && !budget.sessionLimit)) {
    return undefined;
  }
  const fmt = (v: number | undefined) =>
    budget.unit === 'tokens' ? `${formatTokens(v)} tok` : formatMoney(v ?? 0, currency);
  const parts: string[] = [];
  if (budget.dailyLimit) {
    parts.push(`today ${fmt(budget.dailyUsed)} of ${fmt(budget.dailyLimit)}`);
  }
  if (budget.sessionLimit) {
    parts.push(`session ${fmt(budget.sessionUsed)} of ${fmt(budget.sessionLimit)}`);
  }
  return parts.join(' · ') + (budget.exceeded ? ' — exceeded' : '');
}
