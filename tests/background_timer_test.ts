import assert from "node:assert/strict";
import { backgroundInterval, backgroundTimeout } from "../src/background_timer.ts";

Deno.test("backgroundTimeout fires once after its delay, and a cancelled one never fires", async () => {
  const fired: string[] = [];
  const cancel = backgroundTimeout(1, () => fired.push("cancelled"));
  cancel();
  const started = performance.now();
  await new Promise<void>((resolve) =>
    backgroundTimeout(20, () => resolve(void fired.push("kept")))
  );
  assert.ok(performance.now() - started >= 19);
  // Due before the kept one, so it would have fired by now.
  assert.deepEqual(fired, ["kept"]);
});

Deno.test("backgroundInterval fires repeatedly until stopped", async () => {
  let count = 0;
  let stop: () => void = () => {};
  await new Promise<void>((resolve) => {
    stop = backgroundInterval(1, () => {
      if (++count === 3) resolve();
    });
  });
  stop();
  await new Promise<void>((resolve) => backgroundTimeout(20, resolve));
  assert.equal(count, 3);
});
