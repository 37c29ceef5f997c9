/** What reading a stream gave: its bytes, or the size reached past the limit. */
export type ReadBytes = { bytes: Uint8Array } | { tooLarge: number };

/**
 * Reads `stream` to its end, once, into one buffer. Past `limit` bytes it stops, cancels the stream and
 * reports the size reached. A stream that errors rejects (its partial data is dropped). The stream is
 * not kept: the reader's lock is released before this returns.
 */
export async function readAll(stream: ReadableStream<Uint8Array>, limit: number): Promise<ReadBytes> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        return { tooLarge: size };
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return { bytes: chunks[0]! };
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return { bytes };
}
