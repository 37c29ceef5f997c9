import { createRefreshHandler } from "next-cacheback";
import { quote, trending } from "@/lib/jobs";
import { fetchHeadline } from "@/lib/source";

// The refresh route QStash (or the embedded local queue) delivers to. Every job a page reads through
// the cache is registered here by name: `defineJob` jobs as themselves, and the plain fetcher behind
// `cachebackFetch("headline", fetchHeadline)` under its key's name.
export const POST = createRefreshHandler({ jobs: { quote, trending, headline: fetchHeadline } });
