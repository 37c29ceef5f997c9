import { buildRefreshMessage, type RefreshBatch, type RefreshMessage } from "../message.js";
import type { Dispatch } from "./request.js";

/** The body size a batch stays under, in bytes (QStash takes messages of up to 1 MB on its free plan). */
export const MAX_BATCH_BYTES = 900_000;

/** One refresh as its message carries it. */
export function messageOf({ request, token, queuedAt }: Dispatch): RefreshMessage {
  return buildRefreshMessage(request.job, request.args, token, queuedAt, request.options, request.tags, request.trace);
}

/** A message to publish: the body, its deduplication id, and the refreshes it carries. */
export interface Outgoing {
  body: RefreshMessage | RefreshBatch;
  deduplicationId: string;
  items: Dispatch[];
}

const encoder = new TextEncoder();

/**
 * Groups refreshes into messages (pure): at most `maxItems` each, and under `maxBytes` of JSON. A message
 * of one refresh has the single-refresh format, which routes of earlier versions accept; several go as a
 * batch. The deduplication id comes from the first lock token, which no other message carries.
 */
export function packMessages(items: readonly Dispatch[], maxItems: number, maxBytes = MAX_BATCH_BYTES): Outgoing[] {
  const out: Outgoing[] = [];
  let group: { item: Dispatch; message: RefreshMessage }[] = [];
  let bytes = 0;
  const close = () => {
    if (group.length === 0) return;
    const first = group[0]!;
    out.push(
      group.length === 1
        ? { body: first.message, deduplicationId: `cacheback-${first.item.token}`, items: [first.item] }
        : {
            body: { v: 2, refreshes: group.map((g) => g.message) },
            deduplicationId: `cacheback-b${group.length}-${first.item.token}`,
            items: group.map((g) => g.item),
          },
    );
    group = [];
    bytes = 0;
  };
  for (const item of items) {
    const message = messageOf(item);
    const size = encoder.encode(JSON.stringify(message)).byteLength + 1;
    if (group.length > 0 && (group.length >= maxItems || bytes + size + 32 > maxBytes)) close();
    group.push({ item, message });
    bytes += size;
  }
  close();
  return out;
}
