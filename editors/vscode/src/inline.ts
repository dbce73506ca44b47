import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

import { ClientCommands, DID_SHOW_COMPLETION } from './protocol';

export const acceptanceCommand = ClientCommands.didAcceptCompletion;

/** The argument of the acceptance command attached to every inline completion item. */
export interface AcceptedCompletion {
  uri: string;
  itemId: string | number;
  acceptedLength: number;
}

type ItemId = string | number;

type InlineResult = vscode.InlineCompletionItem[] | vscode.InlineCompletionList | null | undefined;

/** The language client's own provider, as handed to the middleware. */
type ProvideInlineCompletionItems = (
  document: vscode.TextDocument,
  position: vscode.Position,
  context: vscode.InlineCompletionContext,
  token: vscode.CancellationToken,
) => vscode.ProviderResult<vscode.InlineCompletionItem[] | vscode.InlineCompletionList>;

/**
 * Acceptance statistics for inline completions.
 *
 * The server names each item (`itemId`) in the arguments of the item's command, which VS Code
 * runs when the user accepts the item. When the server attached a command it counts the
 * acceptance itself; an item without a command gets one that sends
 * `ghostwriter/didAcceptCompletion`. Items returned for a request that was not superseded are
 * reported once with `ghostwriter/didShowCompletion`.
 */
export function inlineCompletionMiddleware(getClient: () => LanguageClient | undefined) {
  return async (
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
    next: ProvideInlineCompletionItems,
  ): Promise<InlineResult> => {
    const result = await next(document, position, context, token);
    if (!result || token.isCancellationRequested) {
      return result;
    }
    const client = getClient();
    const items = Array.isArray(result) ? result : result.items;
    const uri = client ? client.code2ProtocolConverter.asUri(document.uri) : document.uri.toString();
    let shown: ItemId | undefined;
    items.forEach((item, index) => {
      const itemId = itemIdOf(item) ?? `${document.version}:${position.line}:${position.character}:${index}`;
      shown ??= itemId;
      if (item.command) {
        return; // the server's own command reports the acceptance
      }
      const accepted: AcceptedCompletion = { uri, itemId, acceptedLength: insertedLength(item) };
      item.command = { command: acceptanceCommand, title: 'Accept Ghostwriter completion', arguments: [accepted] };
    });
    if (shown !== undefined && client?.isRunning()) {
      void client.sendNotification(DID_SHOW_COMPLETION, { uri, itemId: shown });
    }
    return result;
  };
}

/** `{itemId}` anywhere in the command's arguments, or the positional form `[uri, itemId, length]`. */
function itemIdOf(item: vscode.InlineCompletionItem): ItemId | undefined {
  const args = item.command?.arguments ?? [];
  for (const arg of args) {
    if (arg && typeof arg === 'object') {
      const candidate = (arg as { itemId?: unknown }).itemId;
      if (typeof candidate === 'string' || typeof candidate === 'number') {
        return candidate;
      }
    }
  }
  if (args.length >= 2 && typeof args[0] === 'string' && typeof args[1] === 'string') {
    return args[1];
  }
  return undefined;
}

function insertedLength(item: vscode.InlineCompletionItem): number {
  const text = typeof item.insertText === 'string' ? item.insertText : item.insertText.value;
  return text.length;
}
