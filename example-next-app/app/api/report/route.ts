import { revalidateTag } from "next/cache";
import { instanceName, REPORT_TAG, reportComputations } from "@/lib/report";

/** `GET /api/report`: which process answers, and how many times it has computed the market report. */
export function GET(): Response {
  return Response.json({ instance: instanceName(), computations: reportComputations() }, { headers: { "cache-control": "no-store" } });
}

/**
 * `POST /api/report`: `revalidateTag("report", "max")`, as a webhook would call it (a CMS, a cron job). Every
 * instance keeps serving the current report and one computes the next. Next.js runs the invalidation
 * right after this answer is sent. A real app checks a secret here before revalidating anything.
 */
export function POST(): Response {
  revalidateTag(REPORT_TAG, "max");
  return Response.json({ revalidated: [REPORT_TAG] });
}
