/** A request the Redis REST server turns down; `status` is the HTTP status it answers with. */
export class RestRequestError extends Error {
  override name = "RestRequestError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
