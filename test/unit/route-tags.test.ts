import { describe, expect, it, vi } from "vitest";
import { makeJob } from "../../src/job.js";
import { buildRefreshMessage } from "../../src/message.js";
import { resolveRefreshOptions } from "../../src/options.js";
import { createRefreshHandler } from "../../src/route/handler.js";
import { harness } from "../helpers/harness.js";
import { REFRESH_URL, TEST_KEYS, signedRequest } from "../helpers/signed-request.js";

// Messages gain optional fields over versions; a rolling deploy mixes old publishers and new routes.
describe("refresh route and tags", () => {
  function setup() {
    const h = harness({ signingKeys: TEST_KEYS, refreshUrl: REFRESH_URL });
    const post = vi.fn(async (id: number) => ({ id, title: `post ${id}` }));
    const postJob = makeJob(() => h.cb, "post", post, { lifetime: 60, tags: (id: number) => ["posts", `post:${id}`] });
    const handler = createRefreshHandler({ jobs: [postJob], cacheback: h.cb });
    const send = async (message: object) => handler(await signedRequest(JSON.stringify(message)));
    return { h, post, postJob, handler, send };
  }

  it("writes the entry with the tags the message carries", async () => {
    const { h, send } = setup();
    const message = buildRefreshMessage("post", [7], "lock-7", h.clock.now, resolveRefreshOptions({ lifetime: 60 }), ["posts", "post:7", "extra"]);
    const res = await send(message);
    expect(res.status).toBe(200);
    expect(await h.cb.peek(["post", 7])).toMatchObject({ status: "hit", tags: ["posts", "post:7", "extra"] });
  });

  it("a message of the previous format (no tags) gets the job's tags, and is refused by nothing", async () => {
    const { h, send } = setup();
    const old = buildRefreshMessage("post", [8], "lock-8", h.clock.now, resolveRefreshOptions({ lifetime: 60 }));
    expect(old).not.toHaveProperty("tags");
    expect((await send(old)).status).toBe(200);
    expect(await h.cb.peek(["post", 8])).toMatchObject({ status: "hit", tags: ["posts", "post:8"] });
  });

  it("a message whose tags are not tags is refused with 489", async () => {
    const { h, send, post } = setup();
    const base = buildRefreshMessage("post", [9], "lock-9", h.clock.now, resolveRefreshOptions({ lifetime: 60 }));
    for (const tags of ["posts", [""], ["café"], Array.from({ length: 65 }, (_, i) => `t${i}`), [42]]) {
      const res = await send({ ...base, tags });
      expect(res.status, JSON.stringify(tags)).toBe(489);
    }
    expect(post).not.toHaveBeenCalled();
  });

  it("a refresh that finds the entry fresh by its tags skips the job; one made stale by a tag runs it", async () => {
    const { h, send, post, postJob } = setup();
    await postJob(1);
    await h.settle();
    post.mockClear();
    const queuedAt = h.clock.now;
    h.advance(1);
    // A redelivered message for an entry refreshed after it was queued: nothing to do.
    await postJob.set(1, { id: 1, title: "newer" });
    const message = buildRefreshMessage("post", [1], "lock-1", queuedAt, resolveRefreshOptions({ lifetime: 60 }), ["posts", "post:1"]);
    expect(await (await send(message)).json()).toMatchObject({ status: "skipped-fresh" });
    expect(post).not.toHaveBeenCalled();
    // After a revalidateTag, the same kind of message runs the job.
    await h.cb.revalidateTag("posts");
    expect(await (await send({ ...message, lock: "lock-2" })).json()).toMatchObject({ status: "written" });
    expect(post).toHaveBeenCalledTimes(1);
  });
});
