import { signQStashMessage } from "../../src/qstash/signing.js";

export const TEST_KEYS = { current: "sig_test_current_0123456789", next: "sig_test_next_0123456789" };
export const REFRESH_URL = "https://app.example/api/cacheback";

/** A request to the refresh route signed the way QStash signs it. */
export async function signedRequest(
  body: string,
  options: { key?: string; url?: string; signedBody?: string; nowSeconds?: number; headers?: Record<string, string> } = {},
): Promise<Request> {
  const signature = await signQStashMessage({
    signingKey: options.key ?? TEST_KEYS.current,
    url: options.url ?? REFRESH_URL,
    body: options.signedBody ?? body,
    nowSeconds: options.nowSeconds,
  });
  return new Request(REFRESH_URL, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "upstash-signature": signature, ...options.headers },
  });
}
