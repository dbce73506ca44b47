import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

import { ClientCommands, DID_SHOW_COMPLETION } from './protocol';

export const acceptanceCommand = ClientCommands.didAcceptCompletion;

/** The argument of the acceptance command attached to every inline completion item. */
export interface AcceptedCompletion {
  uri: string;
  itemId: string | number | undefined;
  acceptedLength: number;
  /** The command the server attached to the item, run after reporting the acceptance. */
  command?: vscode.Command;
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
 * The server names each item (`itemId`) in the arguments of the item's command. VS Code runs an
 * item's command when the user accepts the item, so the extension wraps that command: it reports
 * `ghostwriter/didAcceptCompletion` and then runs the server's own command, if any. Items the
 * provider returns for a request that was not superseded are reported as shown.
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
    for (const item of items) {
      const itemId = itemIdOf(item);
      shown ??= itemId;
      const accepted: AcceptedCompletion = {
        uri,
        itemId,
        acceptedLength: insertedLength(item),
        command: item.command,
      };
      item.command = { command: acceptanceCommand, title: 'Accept Ghostwriter completion', arguments: [accepted] };
    }
    if (shown !== undefined && client?.isRunning()) {
      void client.sendNotification(DID_SHOW_COMPLETION, { uri, itemId: shown });
    }
    return result;
  };
}

function itemIdOf(item: vscode.InlineCompletionItem): ItemId | undefined {
  for (const arg of item.command?.arguments ?? []) {
    if (arg && typeof arg === 'object') {
      const candidate = (arg as { itemId?: unknown }).itemId;
      if (typeof candidate === 'string' || typeof candidate === 'number') {
        return candidate;
      }
    }
  }
  return undefined;
}

function insertedLength(item: vscode.InlineCompletionItem): number {
  const text = typeof item.insertText === 'string' ? item.insertText : item.insertText.value;
  return text.length;
}
