import assert from "node:assert/strict";
import { holding, Semaphore } from "./semaphore.ts";

Deno.test("Semaphore never lets more than its capacity run, across any number of callers", async () => {
  const slots = new Semaphore(3);
  let running = 0;
  let peak = 0;
  const gates: PromiseWithResolvers<void>[] = [];
  const tasks = Array.from({ length: 20 }, async () => {
    const release = await slots.acquire();
    assert.ok(release !== null);
    running++;
    peak = Math.max(peak, running);
    const gate = Promise.withResolvers<void>();
    gates.push(gate);
    await gate.promise;
    running--;
    release();
    release(); // a second call is a no-op
  });
  // Let callers through three at a time until everyone has run.
  for (let done = 0; done < 20;) {
    while (gates.length === 0) await Promise.resolve();
    gates.shift()!.resolve();
    done++;
    await Promise.resolve();
  }
  await Promise.all(tasks);
  assert.equal(peak, 3);
  assert.equal(slots.inUse, 0);
  assert.equal(slots.waiting, 0);
});

Deno.test("Semaphore serves waiters in arrival order", async () => {
  const slots = new Semaphore(1);
  const first = await slots.acquire();
  const order: number[] = [];
  const waiters = [1, 2, 3].map(async (n) => {
    const release = await slots.acquire();
    order.push(n);
    release?.();
  });
  assert.equal(slots.waiting, 3);
  first!();
  await Promise.all(waiters);
  assert.deepEqual(order, [1, 2, 3]);
});

Deno.test("Semaphore acquire gives up when its signal aborts, and the slot goes to the next", async () => {
  const slots = new Semaphore(1);
  const held = await slots.acquire();
  const controller = new AbortController();
  const aborted = slots.acquire(controller.signal);
  const next = slots.acquire();
  controller.abort();
  assert.equal(await aborted, null);
  assert.equal(slots.waiting, 1);
  held!();
  const release = await next;
  assert.ok(release !== null);
  assert.equal(slots.inUse, 1);
  release();
  assert.equal(await slots.acquire(AbortSignal.abort()), null);
  assert.equal(slots.inUse, 0);
});

Deno.test("Semaphore refuses a capacity below one", () => {
  assert.throws(() => new Semaphore(0), RangeError);
  assert.throws(() => new Semaphore(1.5), RangeError);
});

Deno.test("holding releases its slot however the work ends, and skips it when aborted", async () => {
  const slots = new Semaphore(1);
  assert.equal(await holding(slots, undefined, "aborted", () => Promise.resolve("done")), "done");
  await assert.rejects(holding(slots, undefined, "aborted", () => Promise.reject(new Error("x"))));
  assert.equal(slots.inUse, 0);
  let ran = false;
  const skipped = await holding(slots, AbortSignal.abort(), "aborted", () => {
    ran = true;
    return Promise.resolve("done");
  });
  assert.equal(skipped, "aborted");
  assert.equal(ran, false);
});

Deno.test("tryAcquire takes a free slot at once and none when all are held", () => {
  const slots = new Semaphore(1);
  const release = slots.tryAcquire();
  assert.ok(release !== null);
  assert.equal(slots.tryAcquire(), null);
  assert.equal(slots.inUse, 1);
  release();
  release();
  assert.equal(slots.inUse, 0);
});

Deno.test("holding runs its work at once when a slot is free and releases it after", async () => {
  const slots = new Semaphore(1);
  let ran = false;
  const running = holding(slots, undefined, "aborted", () => {
    ran = true;
    return Promise.resolve("done");
  });
  assert.ok(ran, "started without waiting for a turn of the event loop");
  assert.equal(slots.inUse, 1);
  assert.equal(await running, "done");
  assert.equal(slots.inUse, 0);
  // A throw in the work (not a rejection) still releases the slot and rejects.
  await assert.rejects(
    holding(slots, undefined, "aborted", () => {
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.equal(slots.inUse, 0);
});
