import { readAll } from "../read-all.js";

/**
 * Reads at most `max` bytes of a request body as text; `undefined` when it is larger (declared larger
 * in `Content-Length`, or turning out larger while read: the rest is not read).
 */
export async function readBody(request: Request, max: number): Promise<string | undefined> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > max) return undefined;
  if (!request.body) return "";
  const read = await readAll(request.body, max);
  return "bytes" in read ? new TextDecoder().decode(read.bytes) : undefined;
}
