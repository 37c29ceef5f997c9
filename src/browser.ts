// What a client bundle gets when it imports next-cacheback: the `server-only` marker makes Next.js fail
// the build with "'server-only' cannot be imported from a Client Component module", naming the importer.
import "server-only";

throw new Error(
  "next-cacheback runs on the server only (it holds your Upstash credentials and talks to Redis and QStash). " +
    "Import it from a Server Component, a route handler or a server action, and pass the data to Client Components as props.",
);
