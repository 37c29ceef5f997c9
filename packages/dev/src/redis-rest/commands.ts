import { HttpError } from "../errors.js";

/** One argument as it goes to Redis: text from JSON (sent as UTF-8) or raw bytes from a request body. */
export type RedisArg = string | Buffer;

/** A command ready for Redis: its name (as the client spelled it) and its arguments. */
export interface RedisCommand {
  readonly name: string;
  readonly args: RedisArg[];
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}

/**
 * Turns one command from a request body into a {@link RedisCommand}: a non-empty array whose first element
 * is the command name, every element a string, number or boolean (numbers and booleans become the text
 * Redis expects). Anything else throws a 400 {@link HttpError} whose message names the command as `subject`.
 */
export function parseCommand(value: unknown, subject = "The command"): RedisCommand {
  if (!Array.isArray(value)) {
    throw new HttpError(
      400,
      `${subject} must be a JSON array like ["set","key","value"], got ${describe(value)}`,
    );
  }
  if (value.length === 0) {
    throw new HttpError(400, `${subject} is an empty array: send ["<command>", ...arguments]`);
  }
  const name: unknown = value[0];
  if (typeof name !== "string" || name.length === 0) {
    throw new HttpError(400, `${subject} must start with the command name as a non-empty string`);
  }
  const args: RedisArg[] = new Array<RedisArg>(value.length - 1);
  for (let i = 1; i < value.length; i++) {
    const arg: unknown = value[i];
    if (typeof arg === "string") args[i - 1] = arg;
    else if (typeof arg === "number" || typeof arg === "boolean") args[i - 1] = String(arg);
    else {
      throw new HttpError(
        400,
        `${subject} ('${name}'): element ${i + 1} must be a string, number or boolean, got ${describe(arg)}`,
      );
    }
  }
  return { name, args };
}

/**
 * Turns a `/pipeline` or `/multi-exec` body into its commands: a non-empty JSON array of command arrays.
 * Anything else throws a 400 {@link HttpError}.
 */
export function parseCommandList(value: unknown): RedisCommand[] {
  if (!Array.isArray(value)) {
    throw new HttpError(
      400,
      `The request body must be a JSON array of commands like [["set","k","v"],["get","k"]], got ${describe(value)}`,
    );
  }
  if (value.length === 0) {
    throw new HttpError(400, "The request body is an empty array: send at least one command, [[\"<command>\", ...arguments]]");
  }
  const commands = new Array<RedisCommand>(value.length);
  for (let i = 0; i < value.length; i++) commands[i] = parseCommand(value[i], `Command ${i + 1}`);
  return commands;
}

/** Parses a request body as JSON, or throws a 400 {@link HttpError} saying why it is not. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new HttpError(400, "The request body is empty: send a JSON array");
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch (error) {
    throw new HttpError(400, `The request body is not valid JSON: ${(error as Error).message}`);
  }
}
