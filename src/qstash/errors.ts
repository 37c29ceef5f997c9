import { CachebackError } from "../errors.js";

/**
 * A publish request the local QStash engine refuses (bad destination, malformed header). `status` is the HTTP
 * status the dev server answers with (400, 404 or 413).
 */
export class QStashPublishError extends CachebackError {
  override name = "QStashPublishError";
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** A publish to a {@link DeliveryEngine} that has been closed. */
export class DeliveryEngineClosedError extends CachebackError {
  override name = "DeliveryEngineClosedError";
  constructor() {
    super("The QStash delivery engine is closed: create a new one (or restart the dev server) to publish again.");
  }
}
