/** Lets go of a stream that will not be read (an entry that is not stored). Never throws. */
export async function discard(stream: ReadableStream<Uint8Array> | undefined): Promise<void> {
  try {
    await stream?.cancel();
  } catch {
    // Locked or already errored: nothing more to release.
  }
}
